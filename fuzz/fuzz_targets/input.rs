//! Any bytes, as a file given to `leadsift run` with the built-in rules
//! and no options: no panic, and every row read ends in one output file.

#![no_main]

use std::sync::OnceLock;

use leadsift::rules::Compiled;
use leadsift_fuzz::{run_and_check, Options};
use libfuzzer_sys::fuzz_target;

fn rules() -> &'static Compiled {
    static RULES: OnceLock<Compiled> = OnceLock::new();
    RULES.get_or_init(|| leadsift::rules::load(None).expect("the built-in rules compile"))
}

fuzz_target!(|data: &[u8]| {
    run_and_check(rules(), data, &Options::defaults());
});
