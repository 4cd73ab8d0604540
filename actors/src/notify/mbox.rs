//! The outbox's file format: one mbox file (the `mboxrd` variant) per batch of
//! mails, so that a busy shop writes a file per notifier pass, not per order.
//! A file per mail cost an inode each: on this machine's ext4 that was a quarter
//! of the server's CPU under the checkout benchmark.
//!
//! Each message starts with a `From ` line and ends with an empty line; lines of
//! the message that start with `From ` (after any number of `>`) get one more
//! `>`, which readers take off again. Line ends are `\n`, as mbox files have
//! them. The `From ` line carries a fixed date, as `git format-patch` does: the
//! message's own `Date` header holds the real one.

/// The line that starts every message.
const SEPARATOR: &[u8] = b"From MAILER-DAEMON Thu Jan  1 00:00:00 1970\n";

/// Appends one formatted message (`\r\n` or `\n` line ends) to `mbox`.
pub fn push_message(mbox: &mut Vec<u8>, message: &[u8]) {
    mbox.extend_from_slice(SEPARATOR);
    let message = message.strip_suffix(b"\n").unwrap_or(message);
    for line in message.split(|byte| *byte == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line
            .iter()
            .skip_while(|byte| **byte == b'>')
            .take(5)
            .eq(b"From ".iter())
        {
            mbox.push(b'>');
        }
        mbox.extend_from_slice(line);
        mbox.push(b'\n');
    }
    mbox.push(b'\n');
}

/// Splits an mbox file into its messages, quoting taken off (for tests and tools).
pub fn messages(mbox: &str) -> Vec<String> {
    let mut messages: Vec<String> = Vec::new();
    for line in mbox.lines() {
        if line.starts_with("From ") {
            messages.push(String::new());
            continue;
        }
        let Some(message) = messages.last_mut() else {
            continue;
        };
        let quoted = line.trim_start_matches('>').starts_with("From ") && line.starts_with('>');
        message.push_str(if quoted { &line[1..] } else { line });
        message.push('\n');
    }
    for message in &mut messages {
        // The empty line that ends each message is the format's, not the message's.
        if message.ends_with("\n\n") {
            message.pop();
        }
    }
    messages
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_come_back_as_they_were_written_with_from_lines_quoted() {
        let first = "Subject: one\r\n\r\nFrom here on\r\n>From there\r\nplain\r\n";
        let second = "Subject: two\n\nbody\n";
        let mut mbox = Vec::new();
        push_message(&mut mbox, first.as_bytes());
        push_message(&mut mbox, second.as_bytes());
        let text = String::from_utf8(mbox).unwrap();

        assert_eq!(
            text.matches("\nFrom ").count() + usize::from(text.starts_with("From ")),
            2
        );
        assert!(text.contains("\n>From here on\n>>From there\n"), "{text}");
        assert_eq!(messages(&text), vec![first.replace("\r\n", "\n"), second.to_string()]);
    }

    #[test]
    fn a_line_that_only_mentions_from_is_left_alone() {
        let mut mbox = Vec::new();
        push_message(&mut mbox, b"Subject: x\n\nsent From Berlin\nFromage\n");
        let text = String::from_utf8(mbox).unwrap();
        assert!(text.contains("\nsent From Berlin\nFromage\n"), "{text}");
    }
}
