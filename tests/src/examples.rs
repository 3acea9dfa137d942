//! The documented examples: the `curl` commands of a markdown page, run in order by one shell
//! against a server, each answer checked against the block the page shows after it.
//!
//! A page's ```` ```sh ```` block that calls `curl` is a command; the fenced block right after
//! it, when it is ```` ```json ```` (the body) or ```` ```http ```` (status line, some headers, a
//! blank line, the body), is its answer. A command with no answer block must print nothing.
//! JSON is compared as values. A UUID in an answer stands for the id the server chose: the
//! first time the page shows it, it is bound to the id actually returned, and every later
//! appearance must be that same id (UUIDs the commands themselves send stand for themselves).
//! A timestamp (`2026-12-02T10:15:30.123456Z`) stands for any timestamp, and the string `"…"`
//! (one ellipsis character) for any non-empty string, such as a cursor, which is made anew on
//! every run and means nothing to a reader. Everything else must match exactly; headers the answer block leaves out are not checked.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

/// The base URL the documents use; the runner points it at the server under test.
pub const DOCUMENTED_BASE: &str = "http://127.0.0.1:8080";

/// One command of a page and the answer it shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    /// Line of the page where the command's block starts (1-based), for messages.
    pub line: usize,
    /// The shell text of the block.
    pub command: String,
    /// The answer block, if the page shows one.
    pub answer: Option<Answer>,
}

/// What a page says a command prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// A JSON body (`curl -s`).
    Json(String),
    /// A status line, headers and a JSON body (`curl -si`).
    Http(String),
}

/// The examples of `markdown`, in page order.
pub fn examples(markdown: &str) -> Vec<Example> {
    let blocks = fenced_blocks(markdown);
    blocks
        .iter()
        .enumerate()
        .filter(|(_, (lang, _, text))| lang == "sh" && text.contains("curl "))
        .map(|(i, (_, line, text))| Example {
            line: *line,
            command: text.clone(),
            answer: blocks
                .get(i + 1)
                .and_then(|(lang, _, text)| match lang.as_str() {
                    "json" => Some(Answer::Json(text.clone())),
                    "http" => Some(Answer::Http(text.clone())),
                    _ => None,
                }),
        })
        .collect()
}

/// `(language, first line, text)` of each fenced block.
fn fenced_blocks(markdown: &str) -> Vec<(String, usize, String)> {
    let mut blocks = Vec::new();
    let mut open: Option<(String, usize, String)> = None;
    for (n, line) in markdown.lines().enumerate() {
        match (&mut open, line.trim_start().strip_prefix("```")) {
            (None, Some(lang)) => open = Some((lang.trim().to_owned(), n + 1, String::new())),
            (Some(_), Some(_)) => blocks.extend(open.take()),
            (Some((_, _, text)), None) => {
                text.push_str(line);
                text.push('\n');
            }
            (None, None) => {}
        }
    }
    blocks
}

/// Runs every example of `page` against `base`, in order, in one `bash` (so variables set by
/// one command serve the next), and checks each answer.
///
/// # Errors
/// The first example that fails or answers otherwise than shown, with its line and both texts.
pub fn run_page(page: &Path, base: &str) -> Result<usize, String> {
    let markdown = std::fs::read_to_string(page).map_err(|e| format!("{}: {e}", page.display()))?;
    let examples = examples(&markdown);
    if examples.is_empty() {
        return Err(format!("{} has no curl example", page.display()));
    }
    let outputs = run_commands(&examples, base)?;
    let mut bindings = Bindings::fixed(examples.iter().map(|e| e.command.as_str()));
    for (example, output) in examples.iter().zip(&outputs) {
        let at = format!("{}:{}", page.display(), example.line);
        match &example.answer {
            Some(answer) => check(answer, output, &mut bindings).map_err(|why| {
                format!("{at}: {why}\n--- shown:\n{answer:?}\n--- got:\n{output}")
            })?,
            None if output.trim().is_empty() => {}
            None => {
                return Err(format!(
                    "{at}: printed an answer the page does not show:\n{output}"
                ))
            }
        }
    }
    Ok(examples.len())
}

/// Separates one command's output from the next.
const MARK: &str = "\u{1e}example-done\u{1e}";

fn run_commands(examples: &[Example], base: &str) -> Result<Vec<String>, String> {
    let mut script = String::from("set -euo pipefail\n");
    for e in examples {
        script.push_str(&e.command.replace(DOCUMENTED_BASE, base));
        script.push_str(&format!("\nprintf '\\n{MARK}\\n'\n"));
    }
    let dir = std::env::temp_dir().join(format!("documented-examples-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let run = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(&dir)
        .output()
        .map_err(|e| format!("cannot run bash: {e}"));
    let _ = std::fs::remove_dir_all(&dir);
    let run = run?;
    let stdout = String::from_utf8_lossy(&run.stdout).replace('\r', "");
    let mut outputs: Vec<String> = stdout
        .split(&format!("\n{MARK}\n"))
        .map(str::to_owned)
        .collect();
    outputs.pop(); // What follows the last mark.
    if outputs.len() < examples.len() {
        let failed = &examples[outputs.len()];
        return Err(format!(
            "the command at line {} failed ({}): {}\n{}",
            failed.line,
            run.status,
            String::from_utf8_lossy(&run.stderr),
            failed.command
        ));
    }
    Ok(outputs)
}

/// Which UUID of the page stands for which UUID of the answers, both ways.
#[derive(Debug, Default)]
pub struct Bindings {
    shown_to_got: HashMap<String, String>,
    got_to_shown: HashMap<String, String>,
}

impl Bindings {
    /// Bindings where every UUID written in `commands` stands for itself.
    pub fn fixed<'a>(commands: impl IntoIterator<Item = &'a str>) -> Self {
        let mut bindings = Self::default();
        for command in commands {
            for i in 0..command.len() {
                if let Some(id) = uuid_at(command, i) {
                    bindings.shown_to_got.insert(id.into(), id.into());
                    bindings.got_to_shown.insert(id.into(), id.into());
                }
            }
        }
        bindings
    }

    fn bind(&mut self, shown: &str, got: &str) -> Result<(), String> {
        match (self.shown_to_got.get(shown), self.got_to_shown.get(got)) {
            (Some(g), _) if g != got => Err(format!("{shown} stood for {g} before, now {got}")),
            (_, Some(s)) if s != shown => {
                Err(format!("{got} was shown as {s} before, now {shown}"))
            }
            _ => {
                self.shown_to_got.insert(shown.into(), got.into());
                self.got_to_shown.insert(got.into(), shown.into());
                Ok(())
            }
        }
    }
}

/// Checks `output` against `answer`.
///
/// # Errors
/// What differs.
pub fn check(answer: &Answer, output: &str, bindings: &mut Bindings) -> Result<(), String> {
    match answer {
        Answer::Json(shown) => check_json(shown, output, bindings),
        Answer::Http(shown) => {
            let (shown_head, shown_body) = shown.split_once("\n\n").unwrap_or((shown, ""));
            let (head, body) = output
                .trim_start()
                .split_once("\n\n")
                .ok_or("no blank line after the headers")?;
            let mut shown_lines = shown_head.lines();
            let mut lines = head.lines();
            let status = lines.next().unwrap_or_default();
            if shown_lines.next().unwrap_or_default().trim() != status.trim() {
                return Err(format!("status line is {status:?}"));
            }
            let headers: Vec<(String, &str)> = lines
                .filter_map(|l| l.split_once(':'))
                .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim()))
                .collect();
            for line in shown_lines {
                let (name, value) = line.split_once(':').ok_or(format!("bad header {line:?}"))?;
                let name = name.trim().to_ascii_lowercase();
                let got = headers
                    .iter()
                    .find(|(n, _)| *n == name)
                    .ok_or(format!("no {name} header"))?;
                text(value.trim(), got.1, bindings).map_err(|e| format!("header {name}: {e}"))?;
            }
            if shown_body.trim().is_empty() {
                return match body.trim() {
                    "" => Ok(()),
                    other => Err(format!("a body was not expected: {other}")),
                };
            }
            check_json(shown_body, body, bindings)
        }
    }
}

fn check_json(shown: &str, output: &str, bindings: &mut Bindings) -> Result<(), String> {
    let shown: serde_json::Value =
        serde_json::from_str(shown).map_err(|e| format!("the page's JSON does not parse: {e}"))?;
    let got: serde_json::Value =
        serde_json::from_str(output.trim()).map_err(|e| format!("the answer is not JSON: {e}"))?;
    value(&shown, &got, "$", bindings)
}

fn value(
    shown: &serde_json::Value,
    got: &serde_json::Value,
    at: &str,
    bindings: &mut Bindings,
) -> Result<(), String> {
    use serde_json::Value::{Array, Object, String as Text};
    match (shown, got) {
        (Text(s), Text(g)) => text(s, g, bindings).map_err(|e| format!("{at}: {e}")),
        (Array(s), Array(g)) if s.len() == g.len() => s
            .iter()
            .zip(g)
            .enumerate()
            .try_for_each(|(i, (s, g))| value(s, g, &format!("{at}[{i}]"), bindings)),
        (Object(s), Object(g)) if same_keys(s, g) => s
            .iter()
            .try_for_each(|(k, v)| value(v, &g[k], &format!("{at}.{k}"), bindings)),
        (s, g) if s == g => Ok(()),
        (s, g) => Err(format!("{at}: shown {s}, got {g}")),
    }
}

fn same_keys(
    a: &serde_json::Map<String, serde_json::Value>,
    b: &serde_json::Map<String, serde_json::Value>,
) -> bool {
    a.len() == b.len() && a.keys().all(|k| b.contains_key(k))
}

/// Compares a text of the page with a text of the answer: UUIDs through `bindings`,
/// timestamps as any timestamp, the rest exactly.
fn text(shown: &str, got: &str, bindings: &mut Bindings) -> Result<(), String> {
    if is_timestamp(shown) && is_timestamp(got) {
        return Ok(());
    }
    if shown == ANY_TEXT {
        return if got.is_empty() {
            Err(format!("shown any text, got {got:?}"))
        } else {
            Ok(())
        };
    }
    let (mut i, mut j) = (0, 0);
    while i < shown.len() {
        if let Some(id) = uuid_at(shown, i) {
            let other = uuid_at(got, j).ok_or(format!("expected a UUID at {j} of {got:?}"))?;
            bindings.bind(id, other)?;
            i += id.len();
            j += other.len();
            continue;
        }
        let c = shown[i..].chars().next().unwrap_or_default();
        if !got[j..].starts_with(c) {
            return Err(format!("shown {shown:?}, got {got:?}"));
        }
        i += c.len_utf8();
        j += c.len_utf8();
    }
    if j == got.len() {
        Ok(())
    } else {
        Err(format!("shown {shown:?}, got {got:?}"))
    }
}

/// What a page shows for a string the server makes up anew each time (a cursor).
const ANY_TEXT: &str = "…";

/// The hyphenated UUID starting at byte `i` of `s`, if one does.
fn uuid_at(s: &str, i: usize) -> Option<&str> {
    let candidate = s.get(i..i + 36)?;
    let shape = candidate.char_indices().all(|(k, c)| match k {
        8 | 13 | 18 | 23 => c == '-',
        _ => c.is_ascii_hexdigit(),
    });
    shape.then_some(candidate)
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction]Z`.
fn is_timestamp(s: &str) -> bool {
    let Some(rest) = s.strip_suffix('Z') else {
        return false;
    };
    let (whole, fraction) = rest.split_once('.').unwrap_or((rest, "0"));
    let shape = "dddd-dd-ddTdd:dd:dd";
    whole.len() == shape.len()
        && whole.chars().zip(shape.chars()).all(|(c, p)| match p {
            'd' => c.is_ascii_digit(),
            _ => c == p,
        })
        && !fraction.is_empty()
        && fraction.chars().all(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = "Intro\n\n```sh\ncurl -s http://127.0.0.1:8080/x\n```\n\n```json\n{\"a\": 1}\n```\n\n```sh\nID=$(curl -s y)\n```\n\n```sh\nmake run\n```\n";

    #[test]
    fn examples_pair_each_curl_block_with_the_answer_after_it() {
        let found = examples(PAGE);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].line, 3);
        assert_eq!(found[0].answer, Some(Answer::Json("{\"a\": 1}\n".into())));
        assert_eq!(found[1].answer, None);
    }

    #[test]
    fn a_uuid_shown_twice_must_be_the_same_id_both_times() {
        let shown = Answer::Json(
            r#"["0b9a1c62-3f43-4a0e-9b4a-5e0f3c1d2e7f", "0b9a1c62-3f43-4a0e-9b4a-5e0f3c1d2e7f"]"#
                .into(),
        );
        let same =
            r#"["11111111-2222-4333-8444-555555555555", "11111111-2222-4333-8444-555555555555"]"#;
        let differ =
            r#"["11111111-2222-4333-8444-555555555555", "21111111-2222-4333-8444-555555555555"]"#;
        assert!(check(&shown, same, &mut Bindings::default()).is_ok());
        assert!(check(&shown, differ, &mut Bindings::default()).is_err());
    }

    #[test]
    fn a_uuid_the_commands_send_stands_for_itself() {
        let id = "9b2e4d7a-1c3f-4e5a-8b6c-7d8e9f0a1b2c";
        let mut bindings = Bindings::fixed([format!("curl -H 'user-id: {id}'").as_str()]);
        let shown = Answer::Json(format!(r#"{{"user_id": "{id}"}}"#));
        let other = r#"{"user_id": "11111111-2222-4333-8444-555555555555"}"#;
        assert!(check(&shown, other, &mut bindings).is_err());
        assert!(check(&shown, &format!(r#"{{"user_id": "{id}"}}"#), &mut bindings).is_ok());
    }

    #[test]
    fn an_ellipsis_stands_for_any_non_empty_string_and_nothing_else() {
        let mut b = Bindings::default();
        let shown = r#"{"next_cursor": "…"}"#;
        assert!(check_json(shown, r#"{"next_cursor": "AQEkx-_9"}"#, &mut b).is_ok());
        assert!(check_json(shown, r#"{"next_cursor": ""}"#, &mut b).is_err());
        assert!(check_json(shown, r#"{"next_cursor": null}"#, &mut b).is_err());
        assert!(check_json(r#"{"a": "x…"}"#, r#"{"a": "xyz"}"#, &mut b).is_err());
    }

    #[test]
    fn any_other_difference_fails() {
        let shown =
            Answer::Json(r#"{"name": "A", "cost": 1, "at": "2026-12-02T10:15:30.1Z"}"#.into());
        let mut b = Bindings::default();
        assert!(check(
            &shown,
            r#"{"name": "A", "cost": 1, "at": "2027-01-01T00:00:00.999999Z"}"#,
            &mut b
        )
        .is_ok());
        assert!(check(
            &shown,
            r#"{"name": "B", "cost": 1, "at": "2026-12-02T10:15:30.1Z"}"#,
            &mut b
        )
        .is_err());
        assert!(check(
            &shown,
            r#"{"name": "A", "cost": 2, "at": "2026-12-02T10:15:30.1Z"}"#,
            &mut b
        )
        .is_err());
        assert!(check(
            &shown,
            r#"{"name": "A", "cost": 1, "at": "yesterday"}"#,
            &mut b
        )
        .is_err());
        assert!(check(&shown, r#"{"name": "A", "cost": 1}"#, &mut b).is_err());
    }

    #[test]
    fn an_http_answer_checks_the_status_and_the_headers_shown() {
        let shown = Answer::Http(
            "HTTP/1.1 201 Created\nlocation: /p/0b9a1c62-3f43-4a0e-9b4a-5e0f3c1d2e7f\n\n{\"id\": \"0b9a1c62-3f43-4a0e-9b4a-5e0f3c1d2e7f\"}\n".into(),
        );
        let id = "11111111-2222-4333-8444-555555555555";
        let good =
            format!("HTTP/1.1 201 Created\ndate: now\nLocation: /p/{id}\n\n{{\"id\": \"{id}\"}}");
        assert!(check(&shown, &good, &mut Bindings::default()).is_ok());
        let status = good.replace("201 Created", "200 OK");
        assert!(check(&shown, &status, &mut Bindings::default()).is_err());
        let header = format!("HTTP/1.1 201 Created\n\n{{\"id\": \"{id}\"}}");
        assert!(check(&shown, &header, &mut Bindings::default()).is_err());
    }
}
