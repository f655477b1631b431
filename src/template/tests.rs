//! Unit tests of the template module: limits, error positions, marketing filters, numbers,
//! projection. Conformance with Shopify's Liquid is tests/conformance_liquid.rs.

use super::*;
use crate::value::parse;
use crate::Code;

fn now() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2024-05-01T10:00:00+09:00").unwrap()
}

fn render_with(src: &str, data: &str, limits: &Limits) -> Result<String, Error> {
    let t = Template::parse(src, limits)?;
    let v = parse(data).unwrap();
    t.render(&v, &RenderOptions::new(now(), limits))
}

fn r(src: &str, data: &str) -> String {
    render_with(src, data, &Limits::default()).unwrap_or_else(|e| panic!("{src}: {e}"))
}

fn err(src: &str, data: &str) -> Error {
    match render_with(src, data, &Limits::default()) {
        Ok(out) => panic!("{src} should fail, rendered {out:?}"),
        Err(e) => e,
    }
}

fn err_with(src: &str, limits: &Limits) -> Error {
    match render_with(src, "{}", limits) {
        Ok(out) => panic!("{src} should fail, rendered {} bytes", out.len()),
        Err(e) => e,
    }
}

// The limit tests feed templates that would do 10^8 steps or bytes of work without their
// limit. They assert on the limit error, not on a clock (timed tests flake on shared machines):
// a limit applied only after the work shows up as a slow test run.

#[test]
fn renders_greeting_with_default() {
    let src = "{{ user.displayName | default: \"お客様\" }}様、こんにちは！";
    assert_eq!(r(src, r#"{"user":{}}"#), "お客様様、こんにちは！");
    assert_eq!(r(src, r#"{"user":{"displayName":""}}"#), "お客様様、こんにちは！");
    assert_eq!(r(src, r#"{"user":{"displayName":"太郎"}}"#), "太郎様、こんにちは！");
    assert_eq!(r("{{ x | default: 'none' }}", r#"{"x":[]}"#), "none");
    assert_eq!(r("{{ x | default: 'none' }}", r#"{"x":false}"#), "none");
    assert_eq!(r("{{ x | default: 'none', allow_false: true }}", r#"{"x":false}"#), "false");
    assert_eq!(r("{{ x | default: 'none' }}", r#"{"x":0}"#), "0");
}

#[test]
fn undefined_renders_empty_and_truthiness_is_liquids() {
    assert_eq!(r("[{{ nobody.name.first }}]", "{}"), "[]");
    assert_eq!(r("{% if x %}t{% else %}f{% endif %}", r#"{"x":0}"#), "t");
    assert_eq!(r("{% if x %}t{% else %}f{% endif %}", r#"{"x":""}"#), "t");
    assert_eq!(r("{% if x %}t{% else %}f{% endif %}", r#"{"x":null}"#), "f");
    assert!(truthy(&parse("0").unwrap()));
    assert!(truthy(&parse("[]").unwrap()));
    assert!(!truthy(&parse("false").unwrap()));
    assert!(!truthy(&parse("null").unwrap()));
}

#[test]
fn ruby_numbers() {
    assert_eq!(r("{{ 10 | divided_by: 3 }}", "{}"), "3");
    assert_eq!(r("{{ 10 | divided_by: 3.0 }}", "{}"), "3.3333333333333335");
    assert_eq!(r("{{ 1.0 }} {{ 2 | times: 1.5 }} {{ 10.1 | minus: 2.2 }}", "{}"), "1.0 3.0 7.9");
    assert_eq!(r("{{ -7 | modulo: 3 }}", "{}"), "2");
    assert_eq!(r("{{ x | plus: 1 }}", r#"{"x":1.5}"#), "2.5");
    assert_eq!(err("{{ 1 | divided_by: 0 }}", "{}").code, Code::TemplateRender);
}

#[test]
fn marketing_filters() {
    assert_eq!(r("{{ 12800 | yen }}", "{}"), "¥12,800");
    assert_eq!(r("{{ p | yen }}", r#"{"p":-1500}"#), "-¥1,500");
    assert_eq!(r("{{ p | yen }}", r#"{"p":1234.5}"#), "¥1,235");
    assert_eq!(r("{{ p | yen }}", r#"{"p":"980"}"#), "¥980");
    assert_eq!(r("{{ p | yen }}", r#"{"p":0}"#), "¥0");
    assert_eq!(r("[{{ p | yen }}]", "{}"), "[]");
    assert_eq!(r("{{ p | yen }}", r#"{"p":"ask"}"#), "ask");
    assert_eq!(r("{{ 12800 | number_with_delimiter }}", "{}"), "12,800");
    assert_eq!(r("{{ 1234567.891 | number_with_delimiter }}", "{}"), "1,234,567.891");
    assert_eq!(r("{{ -1234567 | number_with_delimiter: '.' }}", "{}"), "-1.234.567");
    assert_eq!(r("{{ 999 | number_with_delimiter }}", "{}"), "999");
    // Characters, not bytes.
    assert_eq!(r("{{ 'こんにちは世界' | truncate: 5 }}", "{}"), "こん...");
    assert_eq!(r("{{ 'こんにちは世界' | truncate: 7 }}", "{}"), "こんにちは世界");
    assert_eq!(r("{{ 'こんにちは世界' | truncate: 4, '…' }}", "{}"), "こんに…");
    assert_eq!(r("{{ '春の セール 開催中 です' | truncatewords: 2 }}", "{}"), "春の セール...");
    // Shopify's split(" ", n + 1): space after the n-th word makes a field, so it truncates.
    assert_eq!(r("{{ 'Hello World ' | truncatewords: 2 }}", "{}"), "Hello World...");
    assert_eq!(r("{{ s | truncatewords: 2 }}", r#"{"s":"  pad  more\n"}"#), "pad more...");
    assert_eq!(r("{{ 'Hello World' | truncatewords: 2 }}", "{}"), "Hello World");
    assert_eq!(r("{{ 'Hello' | truncatewords: 2 }}", "{}"), "Hello");
    assert_eq!(r("{{ '' | truncatewords: 1 }}", "{}"), "");
    assert_eq!(r("{{ 'ｱｲｳ' | size }}", "{}"), "3");
    assert_eq!(r("{{ o | json }}", r#"{"o":{"a":[1,"x",null],"b":1.5}}"#), r#"{"a":[1,"x",null],"b":1.5}"#);
}

#[test]
fn dates_and_time_zones() {
    // The render zone (+09:00 by default) applies to times without an offset and to `now`.
    assert_eq!(r("{{ 'now' | date: '%Y-%m-%d %H:%M' }}", "{}"), "2024-05-01 10:00");
    assert_eq!(r("{{ t | date: '%m/%d %H:%M' }}", r#"{"t":"2024-05-01T00:00:00Z"}"#), "05/01 09:00");
    assert_eq!(r("{{ t | date: '%-m月%-d日' }}", r#"{"t":"1990-12-03"}"#), "12月3日");
    assert_eq!(
        r(
            "{{ t | time_zone: 'UTC' | date: '%H:%M %z' }} {{ t | time_zone: '+05:30' | date: '%H:%M %:z' }}",
            r#"{"t":"2024-05-01T09:00:00+09:00"}"#
        ),
        "00:00 +0000 05:30 +05:30"
    );
    assert_eq!(r("{{ t | time_zone: 'Asia/Bangkok' | date: '%H:%M' }}", r#"{"t":1714521600}"#), "07:00");
    assert_eq!(r("{{ t | date: '%Y' }}", r#"{"t":"not a date"}"#), "not a date");
    let e = Template::parse("{{ t | time_zone: 'Mars/Olympus' }}", &Limits::default()).unwrap_err();
    assert_eq!((e.code, e.line, e.column), (Code::TemplateSyntax, Some(1), Some(8)));
    assert!(e.message.contains("Mars/Olympus"), "{}", e.message);
}

#[test]
fn strftime_follows_ruby_time() {
    // Each expected text is Ruby 3.1's Time#strftime (what Shopify's `date` calls) of the same
    // instant; found by tests/npm/liquid-date-differential.test.mjs's directive sweep.
    let d = |f: &str, zone: &str| {
        r(&format!("{{{{ t | time_zone: '{zone}' | date: f }}}}"), &format!(r#"{{"t":"2026-03-04T17:06:07.123+09:00","f":"{f}"}}"#))
    };
    // The locale modifiers E and O before the conversions that take them; elsewhere as written.
    assert_eq!(d("%Ey %EC %Od %OH %-Ey|%Ez %Oa %E-y", "+09:00"), "26 20 04 17 26|%Ez %Oa %E-y");
    // Colons belong to %z only; %:::z writes the parts that are not zero.
    assert_eq!(d("%:y %::d|%:::z", "+09:00"), "%:y %::d|+09");
    assert_eq!(d("%:::z %::z", "+05:30"), "+05:30 +05:30:00");
    assert_eq!(d("%::::z", "+09:00"), "%::::z");
    // %%, %n and %t take widths as text; # does not change %c's case; %+ is not Time's (Date's).
    assert_eq!(d("%5% %05% %-5%|%3n|%_3t", "+09:00"), "    % 0000% %|  \n|  \t");
    assert_eq!(d("%#c|%^c|%+", "+09:00"), "Wed Mar  4 17:06:07 2026|WED MAR  4 17:06:07 2026|%+");
    // Digits of the fraction: %L and %N take a width as their number of digits.
    assert_eq!(d("%L %N %1N %6L %12N", "+09:00"), "123 123000000 1 123000 123000000000");
    // A fixed offset has no zone name, and nothing is padded; UTC has one.
    assert_eq!(d("[%5Z]", "+09:00"), "[]");
    assert_eq!(d("[%5Z|%Z|%:::z]", "UTC"), "[  UTC|UTC|+00]");
}

#[test]
fn loops_and_conditions() {
    let data = r#"{"items":[{"name":"化粧水","price":3200},{"name":"乳液","price":2800},{"name":"美容液","price":6800}],"rank":"gold"}"#;
    let src = "{% for i in items %}{{ forloop.index }}. {{ i.name }} {{ i.price | yen }}{% unless forloop.last %}, {% endunless %}{% endfor %}";
    assert_eq!(r(src, data), "1. 化粧水 ¥3,200, 2. 乳液 ¥2,800, 3. 美容液 ¥6,800");
    // Liquid drops whitespace-only text of blocks that output nothing else.
    assert_eq!(
        r("{% for i in items %}{{ i.price }}{% unless forloop.last %}\n{% endunless %}{% endfor %}", data),
        "320028006800"
    );
    let src = "{% if rank == 'platinum' %}20%{% elsif rank == 'gold' or rank == 'silver' %}10%{% else %}5%{% endif %}";
    assert_eq!(r(src, data), "10%");
    assert_eq!(r("{% case rank %}{% when 'gold', 'silver' %}G{% else %}N{% endcase %}", data), "G");
    assert_eq!(r("{{ items | map: 'price' | sum | yen }}", data), "¥12,800");
    assert_eq!(r("{{ items | where: 'price', 2800 | map: 'name' | first }}", data), "乳液");
    assert_eq!(r("{%- for i in (1..3) -%} {{ i }} {%- endfor -%}", "{}"), "123");
}

#[test]
fn partials() {
    let limits = Limits::default();
    let t = Template::parse_with_partials(
        "{% render 'price', p: 1200 %}/{% include 'who' %}",
        &limits,
        &[("price", "{{ p | yen }}"), ("who", "{{ name }}")],
    )
    .unwrap();
    let v = parse(r#"{"name":"花子"}"#).unwrap();
    assert_eq!(t.render(&v, &RenderOptions::new(now(), &limits)).unwrap(), "¥1,200/花子");
    let e = Template::parse("{% include 'x' %}", &limits).unwrap_err();
    assert_eq!(e.code, Code::TemplateSyntax);
    let e = Template::parse_with_partials("{% render 'nope' %}", &limits, &[("x", "")]).unwrap_err();
    assert!(e.message.contains("nope"), "{}", e.message);
}

// ---- errors: code, message, line and column -------------------------------------------------

#[test]
fn parse_errors_have_positions_and_say_what_was_found() {
    let limits = Limits::default();
    let e = Template::parse("Hello\n{{ user.name | upcse }}", &limits).unwrap_err();
    assert_eq!((e.code, e.line, e.column, e.path.as_str()), (Code::UnknownFilter, Some(2), Some(16), ""));
    assert!(e.message.contains("upcse") && e.message.contains("upcase"), "{}", e.message);

    let e = Template::parse("a\n  {% nosuchtag x %}", &limits).unwrap_err();
    assert_eq!((e.code, e.line, e.column), (Code::UnknownTag, Some(2), Some(3)));
    assert!(e.message.contains("nosuchtag"), "{}", e.message);

    let e = Template::parse("{% if a %}\n{% for x in y %}{% endif %}", &limits).unwrap_err();
    assert_eq!((e.code, e.line, e.column), (Code::TemplateSyntax, Some(2), Some(17)));
    assert_eq!(e.message, "unexpected 'endif': the open block here is closed with '{% endfor %}' first");
    // An end tag with no block open says that instead.
    let e = Template::parse("a {% endfor %}", &limits).unwrap_err();
    assert!(e.message.contains("does not close or continue any open block"), "{}", e.message);

    let e = Template::parse("x {% if a %}never closed", &limits).unwrap_err();
    assert_eq!((e.code, e.line, e.column), (Code::TemplateSyntax, Some(1), Some(3)));
    assert!(e.message.contains("never closed"), "{}", e.message);

    let e = Template::parse("{{ 'a' | append }}", &limits).unwrap_err();
    assert_eq!((e.code, e.line, e.column), (Code::TemplateSyntax, Some(1), Some(10)));
    assert!(e.message.contains("takes 1 argument, got 0"), "{}", e.message);

    let e = Template::parse("{{ a b }}", &limits).unwrap_err();
    assert_eq!((e.code, e.line, e.column), (Code::TemplateSyntax, Some(1), Some(6)));
    assert!(e.message.contains("'b'"), "{}", e.message);

    let e = Template::parse("日本語\n{{ x ", &limits).unwrap_err();
    assert_eq!((e.code, e.line, e.column), (Code::TemplateSyntax, Some(2), Some(1)));

    let e = Template::parse("{% if x = 1 %}{% endif %}", &limits).unwrap_err();
    assert_eq!((e.code, e.line, e.column), (Code::TemplateSyntax, Some(1), Some(9)));
}

#[test]
fn render_errors_have_positions() {
    let e = err("line1\n  {{ 10 | divided_by: x }}", r#"{"x":0}"#);
    assert_eq!((e.code, e.line, e.column), (Code::TemplateRender, Some(2), Some(11)));
    assert!(e.message.contains("divided_by"), "{}", e.message);
    let e = err("{% if '2' > 1 %}{% endif %}", "{}");
    assert_eq!((e.code, e.line, e.column), (Code::TemplateRender, Some(1), Some(1)));
}

// ---- limits -------------------------------------------------------------------------------------

#[test]
fn limit_nesting_depth_at_parse_time() {
    let limits = Limits::default();
    let nest = |n: usize| "{% if true %}".repeat(n) + "x" + &"{% endif %}".repeat(n);
    assert!(Template::parse(&nest(32), &limits).is_ok());
    // The deepest template renders (mixed blocks, in a debug build's large frames).
    let mixed = "{% for i in (1..1) %}{% if true %}{% case 1 %}{% when 1 %}{% unless false %}".repeat(8)
        + "deep"
        + &"{% endunless %}{% endcase %}{% endif %}{% endfor %}".repeat(8);
    assert_eq!(render_with(&mixed, "{}", &limits).unwrap(), "deep");
    let e = Template::parse(&nest(33), &limits).unwrap_err();
    assert_eq!(e.code, Code::LimitExceeded);
    assert!(e.message.contains("32"), "{}", e.message);
    assert_eq!((e.line, e.column), (Some(1), Some(1 + 32 * 13)));
    // Deep brackets and deep `for`/`capture` mixes count too; a huge nesting fails fast.
    let deep = format!("{{{{ {}a{} }}}}", "a[".repeat(100), "]".repeat(100));
    assert_eq!(Template::parse(&deep, &limits).unwrap_err().code, Code::LimitExceeded);
    let huge = "{% for x in y %}{% capture c %}".repeat(20_000);
    let e = Template::parse(&huge, &Limits { max_source_bytes: 1 << 20, ..limits.clone() }).unwrap_err();
    assert_eq!(e.code, Code::LimitExceeded);
}

#[test]
fn limit_source_size() {
    let limits = Limits { max_source_bytes: 100, ..Limits::default() };
    assert!(Template::parse(&"a".repeat(100), &limits).is_ok());
    let e = Template::parse(&"a".repeat(101), &limits).unwrap_err();
    assert_eq!(e.code, Code::LimitExceeded);
    assert!(e.message.contains("101") && e.message.contains("100"), "{}", e.message);
    let e = Template::parse_with_partials("{% include 'p' %}", &limits, &[("p", &"b".repeat(200))]).unwrap_err();
    assert_eq!(e.code, Code::LimitExceeded);
}

#[test]
fn limit_output_size() {
    let limits = Limits { max_output_bytes: 1000, ..Limits::default() };
    assert_eq!(render_with("{% for i in (1..100) %}0123456789{% endfor %}", "{}", &limits).unwrap().len(), 1000);
    let e = err_with("{% for i in (1..101) %}0123456789{% endfor %}", &limits);
    assert_eq!(e.code, Code::LimitExceeded);
    assert!(e.message.contains("1000 bytes"), "{}", e.message);
    // Strings that double in a loop are stopped long before they exhaust memory.
    let e = err_with(
        "{% assign s = 'xx' %}{% for i in (1..200) %}{% assign s = s | append: s %}{% endfor %}",
        &Limits::default(),
    );
    assert_eq!(e.code, Code::LimitExceeded);
    let e = err_with("{% assign a = (1..8) | split: ',' %}{% for i in (1..100) %}{% assign a = a | concat: a %}{% endfor %}{{ a.size }}", &Limits::default());
    assert_eq!(e.code, Code::LimitExceeded);
    // Captures are bounded as well.
    let e = err_with("{% capture c %}{% for i in (1..2000) %}0123456789{% endfor %}{% endcapture %}", &limits);
    assert_eq!(e.code, Code::LimitExceeded);
}

#[test]
fn limit_loop_iterations_all_loops_together() {
    let limits = Limits::default();
    // 100 outer + 99 × 100 inner = 10,000 iterations: allowed; one more inner round is not.
    assert!(render_with("{% for i in (1..100) %}{% for j in (1..99) %}{% endfor %}{% endfor %}", "{}", &limits).is_ok());
    let e = err_with("{% for i in (1..100) %}{% for j in (1..100) %}{% endfor %}{% endfor %}", &limits);
    assert_eq!(e.code, Code::LimitExceeded);
    assert!(e.message.contains("10000"), "{}", e.message);
    // A huge range is never materialized: the loop fails after the budget, in milliseconds.
    let e = err_with("{% for i in (1..100000000) %}{% endfor %}", &limits);
    assert_eq!(e.code, Code::LimitExceeded);
    let e = err_with("{% tablerow i in (1..100000000) %}{% endtablerow %}", &limits);
    assert_eq!(e.code, Code::LimitExceeded);
    let e = err_with("{{ (1..100000000) | join: ',' }}", &limits);
    assert_eq!(e.code, Code::LimitExceeded);
    let e = err_with("{{ (1..100000000) | reverse | first }}", &limits);
    assert_eq!(e.code, Code::LimitExceeded);
    // `forloop` on a huge range stays lazy too.
    assert_eq!(
        render_with("{% for i in (1..100000000) limit: 2 %}{{ forloop.length }}{% endfor %}", "{}", &limits).unwrap(),
        "22"
    );
    let small = Limits { max_iterations: 5, ..Limits::default() };
    assert!(render_with("{% for i in (1..5) %}{% endfor %}", "{}", &small).is_ok());
    assert_eq!(
        err_with("{% for i in (1..3) %}{% tablerow j in (1..2) %}{% endtablerow %}{% endfor %}", &small).code,
        Code::LimitExceeded
    );
}

#[test]
fn limit_partial_chains_at_parse_time() {
    let names: Vec<String> = (0..200).map(|i| format!("p{i}")).collect();
    let sources: Vec<String> = (0..200).map(|i| format!("{{% include 'p{}' %}}", i + 1)).collect();
    let mut partials: Vec<(&str, &str)> = names.iter().zip(&sources).map(|(n, s)| (n.as_str(), s.as_str())).collect();
    partials.push(("p200", "end"));
    let e = Template::parse_with_partials("{% include 'p0' %}", &Limits::default(), &partials).unwrap_err();
    assert_eq!(e.code, Code::LimitExceeded);
    assert!(Template::parse_with_partials("{% include 'p190' %}", &Limits::default(), &partials).is_ok());
}

#[test]
fn limit_partial_recursion() {
    let limits = Limits::default();
    let t =
        Template::parse_with_partials("{% include 'loop' %}", &limits, &[("loop", "x{% include 'loop' %}")]).unwrap();
    let e = t.render(&parse("{}").unwrap(), &RenderOptions::new(now(), &limits)).unwrap_err();
    assert_eq!(e.code, Code::LimitExceeded);
}

// ---- projection -----------------------------------------------------------------------------

#[test]
fn projection_lists_the_data_a_template_reads() {
    let limits = Limits::default();
    let t = Template::parse(
        "{{ user.displayName }}{{ user.tags.size }}{% for p in user.purchases %}{{ p.sku }}{{ forloop.index }}{% endfor %}{{ site['name'] }}{{ items[0].x }}",
        &limits,
    )
    .unwrap();
    let mut p = crate::value::Projection::none();
    t.projection(&mut p);
    let mut expected = crate::value::Projection::none();
    for path in [&["items"][..], &["site", "name"], &["user", "displayName"], &["user", "purchases"], &["user", "tags"]]
    {
        expected.add(path.iter().copied());
    }
    assert_eq!(p, expected);
    let data = r#"{"user":{"displayName":"A","tags":["x","y"],"purchases":[{"sku":"s1"}],"secret":1},"site":{"name":"S"},"items":[{"x":1}],"big":[1,2,3]}"#;
    let v = crate::value::parse_projected(data, &p).unwrap();
    assert_eq!(t.render(&v, &RenderOptions::new(now(), &limits)).unwrap(), "A2s11S1");
    let t = Template::parse("{{ [key] }}", &limits).unwrap();
    let mut p = crate::value::Projection::none();
    t.projection(&mut p);
    assert!(p.is_all());
    // A counter reads the data's value of its name, where it starts.
    let t = Template::parse("{% increment k %}{{ k }}", &limits).unwrap();
    let mut p = crate::value::Projection::none();
    t.projection(&mut p);
    let v = crate::value::parse_projected(r#"{"k":7,"other":1}"#, &p).unwrap();
    assert_eq!(t.render(&v, &RenderOptions::new(now(), &limits)).unwrap(), "78");
}

#[test]
fn renders_are_independent_and_template_is_shareable() {
    fn send_sync<T: Send + Sync + Clone + std::fmt::Debug>() {}
    send_sync::<Template>();
    let limits = Limits::default();
    let t = Template::parse("{% increment c %}{% cycle 'a','b' %}{{ x }}", &limits).unwrap();
    let t2 = t.clone();
    let handle = std::thread::spawn(move || {
        t2.render(&parse(r#"{"x":1}"#).unwrap(), &RenderOptions::new(now(), &Limits::default())).unwrap()
    });
    assert_eq!(handle.join().unwrap(), "0a1");
    assert_eq!(t.render(&parse(r#"{"x":2}"#).unwrap(), &RenderOptions::new(now(), &limits)).unwrap(), "0a2");
    let mut out = String::from("prefix:");
    t.render_into(&parse("{}").unwrap(), &RenderOptions::new(now(), &limits), &mut out).unwrap();
    assert_eq!(out, "prefix:0a");
}

// ---- robustness -----------------------------------------------------------------------------

/// Random templates built from Liquid fragments never panic, and render (or fail) quickly.
#[test]
fn random_templates_never_panic() {
    const PARTS: &[&str] = &[
        "{{",
        "}}",
        "{%",
        "%}",
        "{%-",
        "-%}",
        " ",
        "x",
        "a.b",
        "a[0]",
        "a[-1]",
        "[k]",
        "'s'",
        "\"q\"",
        "1",
        "-2",
        "3.5",
        "(1..3)",
        "(a..9999999999)",
        "|",
        ":",
        ",",
        "..",
        ".",
        "[",
        "]",
        "(",
        ")",
        "if",
        "elsif",
        "else",
        "endif",
        "for",
        "in",
        "endfor",
        "unless",
        "endunless",
        "case",
        "when",
        "endcase",
        "assign",
        "=",
        "==",
        "<",
        ">=",
        "contains",
        "and",
        "or",
        "capture",
        "endcapture",
        "cycle",
        "increment",
        "decrement",
        "raw",
        "endraw",
        "comment",
        "endcomment",
        "liquid",
        "echo",
        "\n",
        "tablerow",
        "endtablerow",
        "cols:",
        "limit:",
        "offset:",
        "continue",
        "reversed",
        "break",
        "forloop.index",
        "upcase",
        "append: 'z'",
        "plus: 1",
        "divided_by: 0",
        "split: ','",
        "join",
        "sort",
        "map: 'n'",
        "where: 'n'",
        "date: '%Y'",
        "default: 1",
        "truncate: 3",
        "slice: -1, 2",
        "yen",
        "json",
        "size",
        "first",
        "last",
        "nil",
        "empty",
        "blank",
        "true",
        "#",
        "doc",
        "enddoc",
        "ifchanged",
        "endifchanged",
        "日本",
        "round: 2",
        "times: 1.5",
        "modulo: 3",
        "uniq",
        "reverse",
    ];
    let data = parse(
        r#"{"a":[1,"two",{"n":3},[4,5],null,true,2.5],"b":{"c":"d","n":"x"},"k":"a","x":"日本語テキスト","s":""}"#,
    )
    .unwrap();
    let limits = Limits { max_iterations: 2_000, max_output_bytes: 8 * 1024, ..Limits::default() };
    let opts = RenderOptions::new(now(), &limits);
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let (mut parsed, mut rendered) = (0, 0);
    for _ in 0..20_000 {
        let n = 1 + (next() % 24) as usize;
        let mut src = String::new();
        for _ in 0..n {
            src.push_str(PARTS[(next() % PARTS.len() as u64) as usize]);
            if next() % 3 == 0 {
                src.push(' ');
            }
        }
        if let Ok(t) = Template::parse(&src, &limits) {
            parsed += 1;
            if t.render(&data, &opts).is_ok() {
                rendered += 1;
            }
        }
    }
    assert!(parsed > 100 && rendered > 100, "parsed {parsed}, rendered {rendered}");
}

/// Well-formed random templates (valid structure, random expressions) never panic either.
#[test]
fn random_valid_templates_never_panic() {
    const VALUES: &[&str] = &[
        "a",
        "a[2].n",
        "a.size",
        "a.first",
        "b.c",
        "b",
        "x",
        "s",
        "k",
        "[k]",
        "nosuch",
        "1",
        "-7",
        "2.5",
        "'str'",
        "(1..4)",
        "(0..a.size)",
        "nil",
        "empty",
        "blank",
        "true",
        "false",
        "forloop.index",
        "forloop.parentloop.length",
    ];
    const FILTERS: &[&str] = &[
        "upcase",
        "downcase",
        "size",
        "first",
        "last",
        "join: '-'",
        "split: 'a'",
        "append: x",
        "prepend: 1",
        "plus: 2.5",
        "minus: a.size",
        "times: -1",
        "divided_by: 3",
        "modulo: 2",
        "round: 1",
        "ceil",
        "floor",
        "abs",
        "at_least: 3",
        "at_most: 1",
        "default: 'd'",
        "default: 0, allow_false: true",
        "sort",
        "sort_natural",
        "uniq",
        "reverse",
        "compact",
        "map: 'n'",
        "where: 'n'",
        "reject: 'n', 3",
        "has: 'n'",
        "find: 'n'",
        "find_index: 'n'",
        "sum",
        "concat: a",
        "slice: 1, 2",
        "truncate: 4",
        "truncatewords: 1",
        "escape",
        "escape_once",
        "url_encode",
        "url_decode",
        "strip",
        "strip_html",
        "newline_to_br",
        "replace: 'a', 'b'",
        "remove_first: 'x'",
        "date: '%Y-%m-%d %H:%M %a %j'",
        "yen",
        "number_with_delimiter",
        "time_zone: 'Asia/Tokyo'",
        "json",
        "base64_encode",
        "capitalize",
    ];
    let data =
        parse(r#"{"a":[1,"two",{"n":3},[4,5],null,true,2.5],"b":{"c":"d","n":"x"},"k":"a","x":"日本語","s":""}"#)
            .unwrap();
    let limits = Limits { max_iterations: 2_000, ..Limits::default() };
    let opts = RenderOptions::new(now(), &limits);
    let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = |m: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % m as u64) as usize
    };
    let mut failures_render = 0;
    for _ in 0..5_000 {
        let mut expr = VALUES[next(VALUES.len())].to_string();
        for _ in 0..next(4) {
            expr.push_str(" | ");
            expr.push_str(FILTERS[next(FILTERS.len())]);
        }
        let other = VALUES[next(VALUES.len())];
        let op = ["==", "!=", "<", ">=", "contains", "and", "or"][next(7)];
        let src = match next(6) {
            0 => format!("{{{{ {expr} }}}}"),
            1 => format!("{{% if {other} {op} {other} %}}{{{{ {expr} }}}}{{% else %}}e{{% endif %}}"),
            2 => format!("{{% for i in {other} limit: 3 %}}{{{{ i | json }}}}{{{{ {expr} }}}}{{% endfor %}}"),
            3 => format!("{{% assign v = {expr} %}}{{{{ v }}}}{{% case v %}}{{% when {other} %}}w{{% endcase %}}"),
            4 => format!("{{% tablerow i in {other} cols: 2 %}}{{{{ {expr} }}}}{{% endtablerow %}}"),
            _ => format!(
                "{{% capture c %}}{{{{ {expr} }}}}{{% endcapture %}}{{{{ c | size }}}}{{% cycle 'a', {other} %}}"
            ),
        };
        let t = Template::parse(&src, &limits).unwrap_or_else(|e| panic!("{src}: {e}"));
        if t.render(&data, &opts).is_err() {
            failures_render += 1;
        }
    }
    assert!(failures_render < 2_500, "{failures_render} renders failed");
}

#[test]
fn many_names_each_keep_their_own_symbol() {
    // Names inserted out of order into the parser's sorted symbol table, reused and shadowed.
    let names: Vec<String> = (0..200).map(|i| format!("v{}", (i * 37) % 200)).collect();
    let mut src = String::new();
    for (i, n) in names.iter().enumerate() {
        src.push_str(&format!("{{% assign {n} = {i} %}}"));
    }
    src.push_str("{{ v0 }},{{ v37 }},{{ v199 }},{{ forloop }}{% for v5 in (1..2) %}{{ v5 }}{% endfor %},{{ v5 }}");
    // v0 is names[0], v37 names[1], v199 names[27] (37 × 27 = 999), v5 names[65] (37 × 65 = 2405).
    assert_eq!(r(&src, "{}"), "0,1,27,12,65");
}

#[test]
fn times_at_the_end_of_chrono_range_render() {
    // The largest timestamps chrono accepts, shown in a zone that pushes the local time past
    // NaiveDateTime::MAX: no panic. Numbers that large are refused before chrono sees them
    // (from 10^11 on they read as milliseconds), so the edge is reached through the largest
    // seconds value the guard lets through and a date string at the calendar's end.
    let out = render_with("{{ t | time_zone: '+09:00' }}|{{ t | time_zone: '+09:00' | json }}|{{ t | time_zone: '+09:00' | date: '%F %T %s' }}", r#"{"t":8210266876799}"#, &Limits::default());
    assert!(out.as_ref().is_err_and(|e| e.message.contains("milliseconds")), "{out:?}");
    for t in ["99999999999", "\"9999-12-31T23:59:59-14:00\""] {
        let out = render_with("{{ t | time_zone: '+14:00' }}|{{ t | time_zone: '+14:00' | json }}|{{ t | time_zone: '+14:00' | date: '%F %T %s' }}", &format!(r#"{{"t":{t}}}"#), &Limits::default());
        assert!(out.is_ok(), "{t}: {out:?}");
    }
}

#[test]
fn counters_start_from_the_data_and_outputs_close_with_two_braces() {
    // As Shopify: a counter named like a field of the data counts on from its value.
    assert_eq!(r("{% increment k %}{% increment k %}{{ k }}", r#"{"k":7}"#), "789");
    assert_eq!(r("{% decrement k %}{{ k }}", r#"{"k":7}"#), "66");
    assert_eq!(r("{% assign k = 3 %}{% increment k %}{{ k }}", r#"{"k":7}"#), "73");
    assert_eq!(r("{% increment k %}{% decrement k %}", r#"{"k":null}"#), "00");
    let e = err("{% increment user %}", r#"{"user":{"userId":"U1"}}"#);
    assert_eq!(e.code, Code::TemplateRender);
    assert!(e.message.contains("counts from the data's \"user\", which holds an object"), "{}", e.message);
    // One `}` does not close an output (Shopify and liquidjs refuse it too).
    let e = Template::parse("a {{ x } b", &Limits::default()).unwrap_err();
    assert_eq!(e.code, Code::TemplateSyntax);
    assert!(e.message.contains("'{{' is not closed with '}}'"), "{}", e.message);
}

#[test]
fn strip_html_keeps_unclosed_openers_and_strips_the_rest() {
    let cases = [
        ("a<b>c</b>d", "acd"),
        ("x<!-- c -->y<script>s</script>z<style>t</style>!", "xyz!"),
        ("<!-- open <b>bold</b>", "bold"),
        ("<script>never closed <i>i</i><!--c-->ok", "never closed iok"),
        ("a < b and c > d", "a  d"),
        ("1 < 2, 3 < 4", "1 < 2, 3 < 4"),
        ("<<<b>>", ">"),
    ];
    for (input, want) in cases {
        assert_eq!(r("{{ s | strip_html }}", &format!("{{\"s\":{input:?}}}")), want, "{input}");
    }
}
