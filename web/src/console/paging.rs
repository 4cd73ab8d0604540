//! Lists a page at a time: the page asked for (a lenient number: anything
//! else is page 1), how many pages there are, and the links around it.

/// Where a list is.
pub struct Pager {
    /// 1-based.
    pub page: usize,
    pub pages: usize,
    pub previous: Option<String>,
    pub next: Option<String>,
}

/// The page a query asks for: a number from 1 on; anything else is 1.
pub fn page_number(text: &str) -> usize {
    text.trim().parse::<usize>().unwrap_or(1).max(1)
}

impl Pager {
    /// Page `page` of `matching` items, `per_page` a page, at most
    /// `max_pages` pages reachable; `link(n)` is page `n`'s address.
    pub fn new(
        page: usize,
        matching: usize,
        per_page: usize,
        max_pages: usize,
        link: impl Fn(usize) -> String,
    ) -> Self {
        let pages = matching.div_ceil(per_page.max(1)).clamp(1, max_pages.max(1));
        let page = page.clamp(1, pages);
        Pager {
            page,
            pages,
            previous: (page > 1).then(|| link(page - 1)),
            next: (page < pages).then(|| link(page + 1)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_go_one_page_either_way_within_the_pages_there_are() {
        let link = |n: usize| format!("?page={n}");
        let first = Pager::new(1, 120, 50, 100, link);
        assert_eq!(
            (first.pages, first.previous, first.next.as_deref()),
            (3, None, Some("?page=2"))
        );
        let last = Pager::new(7, 120, 50, 100, link);
        assert_eq!(
            (last.page, last.previous.as_deref(), last.next),
            (3, Some("?page=2"), None)
        );
        let capped = Pager::new(1_000, 1_000_000, 50, 1_000, link);
        assert_eq!((capped.page, capped.next), (1_000, None));
        assert_eq!(Pager::new(1, 0, 50, 100, link).pages, 1);
        assert_eq!((page_number("3"), page_number("x"), page_number("0")), (3, 1, 1));
    }
}
