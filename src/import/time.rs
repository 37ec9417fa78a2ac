//! ISO 8601 / RFC 3339 timestamps, as ECS events carry them (`2020-01-23T17:57:34.402Z`), to
//! microseconds since the Unix epoch.

/// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` (a space may stand for the `T`; the fraction
/// is kept to the microsecond).
///
/// ```
/// use clustersim::import::parse_rfc3339_us;
/// assert_eq!(parse_rfc3339_us("1970-01-01T00:00:01.5Z"), Ok(1_500_000));
/// assert_eq!(parse_rfc3339_us("1970-01-01T01:00:00+01:00"), Ok(0));
/// ```
pub fn parse_rfc3339_us(s: &str) -> Result<i64, String> {
    let bad = || "not an ISO 8601 timestamp such as 2020-01-23T17:57:34.402Z".to_string();
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') || b[13] != b':' || b[16] != b':' {
        return Err(bad());
    }
    let num = |from: usize, to: usize| -> Result<i64, String> {
        let part = &s[from..to];
        if part.bytes().all(|c| c.is_ascii_digit()) { part.parse().map_err(|_| bad()) } else { Err(bad()) }
    };
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => return Err(format!("month {month} does not exist")),
    };
    if day < 1 || day > days_in_month || hour > 23 || minute > 59 || second > 60 {
        return Err(format!("{s} is not a valid date and time"));
    }
    let mut rest = &s[19..];
    let mut micros = 0i64;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(bad());
        }
        let kept = &frac[..digits.min(6)];
        micros = kept.parse::<i64>().map_err(|_| bad())? * 10i64.pow(6 - kept.len() as u32);
        rest = &frac[digits..];
    }
    let offset_s = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6 && matches!(&rest[..1], "+" | "-") && &rest[3..4] == ":" => {
            let sign = if rest.starts_with('-') { -1 } else { 1 };
            let (h, m) = (num_at(rest, 1, 3).ok_or_else(bad)?, num_at(rest, 4, 6).ok_or_else(bad)?);
            if h > 23 || m > 59 {
                return Err(bad());
            }
            sign * (h * 3600 + m * 60)
        }
        _ => return Err(format!("{s}: give the time zone as Z or ±HH:MM")),
    };
    let days = days_from_civil(year, month, day);
    Ok(((days * 86_400 + hour * 3600 + minute * 60 + second) - offset_s) * 1_000_000 + micros)
}

fn num_at(s: &str, from: usize, to: usize) -> Option<i64> {
    let part = s.get(from..to)?;
    part.bytes().all(|c| c.is_ascii_digit()).then(|| part.parse().ok()).flatten()
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_of_the_documentation_example_and_known_epoch_seconds() {
        // 2020-01-23T17:57:34Z is 1579802254 s after the epoch (date -u -d ... +%s).
        assert_eq!(parse_rfc3339_us("2020-01-23T17:57:34.402Z"), Ok(1_579_802_254_402_000));
        assert_eq!(parse_rfc3339_us("2000-03-01T00:00:00Z"), Ok(951_868_800_000_000));
        assert_eq!(parse_rfc3339_us("2024-02-29T12:00:00.000001-02:30"), Ok((1_709_208_000 + 9000) * 1_000_000 + 1));
    }

    #[test]
    fn malformed_timestamps_are_refused() {
        for s in [
            "2020-01-23",
            "2020-13-01T00:00:00Z",
            "2021-02-29T00:00:00Z",
            "2020-01-23T17:57:34",
            "2020-01-23T17:57:34.Z",
            "x020-01-23T17:57:34Z",
        ] {
            assert!(parse_rfc3339_us(s).is_err(), "{s}");
        }
    }
}
