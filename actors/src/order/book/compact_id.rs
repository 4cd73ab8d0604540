//! An order id as the order book keeps it: the 16 bytes that its 32
//! lower-case hex digits spell (every id a checkout makes, see
//! [`crate::order::checkout::order_id`]), inline in a 24-byte enum, instead
//! of a 16-byte box and a 32-byte allocation; any other id as it is.

/// An order id, compact when it is 32 lower-case hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CompactId {
    Hex([u8; 16]),
    Other(Box<str>),
}

fn nibble(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        _ => None,
    }
}

impl CompactId {
    pub fn new(id: &str) -> Self {
        let mut bytes = [0; 16];
        let digits = id.as_bytes();
        let hex = digits.len() == 32
            && bytes.iter_mut().enumerate().all(|(index, byte)| {
                match (nibble(digits[2 * index]), nibble(digits[2 * index + 1])) {
                    (Some(high), Some(low)) => {
                        *byte = high << 4 | low;
                        true
                    }
                    _ => false,
                }
            });
        match hex {
            true => CompactId::Hex(bytes),
            false => CompactId::Other(id.into()),
        }
    }

    /// Whether the id starts with `prefix` (a lower-case string).
    pub fn starts_with(&self, prefix: &str) -> bool {
        match self {
            CompactId::Other(id) => id.starts_with(prefix),
            CompactId::Hex(bytes) => {
                prefix.len() <= 32
                    && prefix.bytes().enumerate().all(|(index, digit)| {
                        let byte = bytes[index / 2];
                        let half = if index % 2 == 0 { byte >> 4 } else { byte & 0xf };
                        nibble(digit) == Some(half)
                    })
            }
        }
    }
}

impl std::fmt::Display for CompactId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CompactId::Other(id) => f.write_str(id),
            CompactId::Hex(bytes) => bytes.iter().try_for_each(|byte| write!(f, "{byte:02x}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_ids_are_kept_as_bytes_and_read_back_the_same() {
        let id = "00ff10a9b8c7d6e5f4031234567890ab";
        let compact = CompactId::new(id);
        assert!(matches!(compact, CompactId::Hex(_)));
        assert_eq!(compact.to_string(), id);
        assert!(compact.starts_with("00ff10a9") && compact.starts_with(id));
        assert!(!compact.starts_with("00ff10a8") && !compact.starts_with("00FF"));
        for other in [
            "ghost",
            "00FF10A9B8C7D6E5F4031234567890AB",
            "00ff10a9b8c7d6e5f4031234567890a",
        ] {
            let compact = CompactId::new(other);
            assert_eq!(compact, CompactId::Other(other.into()));
            assert_eq!(compact.to_string(), other);
        }
    }
}
