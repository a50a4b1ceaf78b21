//! The reader alone, faster than a whole run: any bytes, with options
//! drawn from the first byte as in `input_options`, opened (format,
//! encoding, delimiter, title lines, header) and read to the end. No
//! panic, no hang, and every record on a later line than the one before.

#![no_main]

use std::sync::OnceLock;

use leadsift::rules::Compiled;
use leadsift_fuzz::{read_and_check, Options};
use libfuzzer_sys::fuzz_target;

fn rules() -> &'static Compiled {
    static RULES: OnceLock<Compiled> = OnceLock::new();
    RULES.get_or_init(|| leadsift::rules::load(None).expect("the built-in rules compile"))
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, file)) = data.split_first() else {
        return;
    };
    read_and_check(rules(), file, &Options::from_flags(flags));
});
