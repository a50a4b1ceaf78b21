//! Like `input`, with the reading options drawn from the first byte:
//! tiny size limits (so that short inputs reach the field, record and
//! quoted-line limits), a given delimiter or encoding, `--short-rows pad`,
//! `--long-rows keep` and `--no-sanitize`. The rest is the file.

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
    let Some((&flags, file)) = data.split_first() else {
        return;
    };
    run_and_check(rules(), file, &Options::from_flags(flags));
});
