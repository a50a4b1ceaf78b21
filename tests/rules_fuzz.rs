//! Any rules text, however broken, compiles to rules or to errors that each
//! have a position: never a panic. Generated from fragments of real rules
//! files cut and joined at random, plus arbitrary characters.

use leadsift::rules::{compile, Origin};
use proptest::prelude::*;

const FRAGMENTS: &[&str] = &[
    "[[rule]]\n",
    "id = \"a\"\n",
    "when = '",
    "'\n",
    "fit = ",
    "10\n",
    "-3\n",
    "[stages]\n",
    "opportunity = \"",
    "prospect = \"",
    "\"\n",
    "[groups]\n",
    "fit = { cap = 5, floor = 9 }\n",
    "[lists]\n",
    "x = [\"a\", \"b\"]\n",
    "y = { file = \"../nope.txt\" }\n",
    "[define]\n",
    "d = \"",
    "[usable]\n",
    "when = \"",
    "reason = \"r\"\n",
    "[clean]\n",
    "write = [\"email\"]\n",
    "phone_region = \"XX\"\n",
    "placeholders = [\"TBD\"]\n",
    "[fields]\n",
    "email = [\"E\"]\n",
    "email ",
    "is present",
    " and ",
    " or ",
    "not ",
    "(",
    ")",
    "title matches \"(?i)\\\\b(ceo\"",
    "company_size >= 50",
    "x in x",
    "marked(budget)",
    "seniority(title) = \"vp\"",
    "phone_e164(\"x\")",
    "number(",
    "`Col`",
    "\"",
    "'",
    "= ",
    ">=",
    "\n",
    " ",
    "é",
    "\u{feff}",
    "[[",
    "]]",
    "{",
    "}",
    ",",
    "#",
    "\\",
];

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            4 => prop::sample::select(FRAGMENTS).prop_map(str::to_string),
            1 => any::<char>().prop_map(|c| c.to_string()),
        ],
        0..60,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]
    #[test]
    fn no_rules_text_makes_compile_panic(t in text()) {
        let lines = t.lines().count().max(1);
        match compile(Origin::Builtin, &t) {
            Ok(_) => {}
            Err(d) => {
                prop_assert!(d.errors() > 0);
                for item in &d.items {
                    prop_assert!(item.line >= 1 && item.line <= lines + 1, "line {} of {}", item.line, lines);
                    prop_assert!(item.column >= 1);
                }
            }
        }
    }
}
