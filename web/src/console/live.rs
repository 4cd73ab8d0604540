//! Live page regions: a `<live-region data-src=...>` element (the
//! `live-region.js` module) follows a server-sent event stream whose events
//! carry the region's HTML, re-rendered on the server from the same template
//! as the page. A region is sent when it changed, checked every
//! [`TICK`]; a comment keeps an idle stream open through proxies. Without
//! JavaScript the page shows the figures of when it was loaded.
//!
//! A stream ends after [`LIFETIME`]; the browser's `EventSource` connects
//! again after the `retry` the stream set, and that request is checked like
//! any other (signed in, staff, session renewed): a signed-out, demoted or
//! deleted operator stops receiving within a minute, and shutdown does not
//! wait for open streams longer than that.

use std::time::Duration;

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::HttpResponse;
use futures_util::{stream, StreamExt as _};

/// How often a region is re-rendered.
pub const TICK: Duration = Duration::from_secs(1);
/// How long an unchanged stream waits before a keep-alive comment.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// How long one stream lasts before the browser must connect (and be
/// authorized) again.
const LIFETIME: Duration = Duration::from_secs(60);
/// The first bytes of a stream: reconnect 1 s after it ends.
const RETRY: &[u8] = b"retry: 1000\n\n";

/// One `html` event holding `body`: each line of it a `data:` line.
fn event(body: &str) -> Bytes {
    let mut out = String::with_capacity(body.len() + 64);
    out.push_str("event: html\n");
    for line in body.lines() {
        out.push_str("data: ");
        // A lone carriage return would end the field for EventSource.
        out.extend(line.chars().filter(|c| *c != '\r'));
        out.push('\n');
    }
    out.push('\n');
    Bytes::from(out)
}

struct Region<F> {
    render: F,
    /// What was sent last (`None`: nothing yet).
    last: Option<String>,
    quiet: Duration,
    /// Since the stream began.
    age: Duration,
}

/// The stream of `render`'s output: now, then each time it changes.
pub fn stream<F>(render: F) -> HttpResponse
where
    F: FnMut() -> String + 'static,
{
    let region = Region {
        render,
        last: None,
        quiet: Duration::ZERO,
        age: Duration::ZERO,
    };
    let events = stream::unfold(region, |mut region| async move {
        loop {
            if region.last.is_some() {
                if region.age >= LIFETIME {
                    return None;
                }
                tokio::time::sleep(TICK).await;
                region.quiet += TICK;
                region.age += TICK;
            }
            let html = (region.render)();
            if region.last.as_deref() != Some(html.as_str()) {
                let bytes = event(&html);
                region.last = Some(html);
                region.quiet = Duration::ZERO;
                return Some((Ok::<_, actix_web::Error>(bytes), region));
            }
            if region.quiet >= KEEP_ALIVE {
                region.quiet = Duration::ZERO;
                return Some((Ok(Bytes::from_static(b": keep-alive\n\n")), region));
            }
        }
    });
    let retry = stream::iter([Ok::<_, actix_web::Error>(Bytes::from_static(RETRY))]);
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("x-accel-buffering", "no"))
        .streaming(retry.chain(events))
}

#[cfg(test)]
mod tests {
    use super::event;

    #[test]
    fn every_line_of_a_region_is_a_data_line() {
        let bytes = event("<tr>\r\n<td>a\rb</td>\n</tr>");
        assert_eq!(
            &bytes[..],
            b"event: html\ndata: <tr>\ndata: <td>ab</td>\ndata: </tr>\n\n"
        );
    }
}
