//! Any text as a rules file: compiling never panics, and every error has
//! a line (within the text) and a column. Rules that compile are shown as
//! `leadsift check` shows them and run on a sample export, where every
//! row must again end in one output file.

#![no_main]

use leadsift::rules::{compile, Origin};
use leadsift_fuzz::{run_and_check, Options};
use libfuzzer_sys::fuzz_target;

const SAMPLE: &[u8] = include_bytes!("../../samples/crm-export.csv");

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let lines = text.lines().count().max(1);
    match compile(Origin::Builtin, text) {
        Ok(compiled) => {
            let _ = leadsift::cmd::check::describe(&compiled);
            run_and_check(&compiled, SAMPLE, &Options::defaults());
        }
        Err(d) => {
            assert!(d.errors() > 0, "an Err without an error: {d}");
            for item in &d.items {
                assert!(
                    item.line >= 1 && item.line <= lines + 1,
                    "line {} of a {lines}-line text: {d}",
                    item.line
                );
                assert!(item.column >= 1, "column 0: {d}");
            }
        }
    }
});
