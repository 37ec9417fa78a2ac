//! Durations (`"90s"`, `"5m"`, `"2h"`, `"250ms"`, `"1.5d"`) and sizes (`"512MiB"`, `"2GiB"`,
//! `"1.5GB"`) as people write them in scenario files.
//!
//! Sizes follow one rule across the project, the one ECS applies to task sizes: every unit is
//! binary, and the decimal-looking names mean the same binary unit (`"2GB"` = `"2GiB"` = 2,048
//! MiB; `"9000MB"` = 9,000 MiB), so a scenario and a task definition never read the same text
//! differently. A bare TOML integer is MiB wherever a memory size is meant; a quoted string must
//! carry its unit. See <https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#task_size>.

use crate::engine::SimTime;

/// Said in every size error: the units a size accepts.
pub const SIZE_UNITS: &str = "units: B, KiB, MiB, GiB, TiB (KB, MB, GB, TB are the same binary units, as in ECS task sizes: \
                              1 GB = 1024 MiB); a bare integer, unquoted, is MiB";

/// Parses a duration. A bare number is seconds. Errors say what is allowed.
pub fn parse_duration(text: &str) -> Result<SimTime, String> {
    let t = text.trim();
    let (number, unit) = split_number(t);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration; write a number and a unit: ms, s, m, h or d (e.g. \"90s\", \"5m\")"))?;
    let scale = match unit.trim() {
        "us" | "µs" => 1e-6,
        "ms" => 1e-3,
        "" | "s" | "sec" | "secs" => 1.0,
        "m" | "min" | "mins" => 60.0,
        "h" | "hr" | "hrs" => 3600.0,
        "d" | "day" | "days" => 86_400.0,
        other => return Err(format!("unknown duration unit `{other}` in `{text}`; allowed: us, ms, s, m, h, d")),
    };
    if !value.is_finite() || value < 0.0 {
        return Err(format!("duration `{text}` must be zero or positive"));
    }
    Ok(SimTime::from_secs_f64(value * scale))
}

/// Parses a size into bytes. The unit is required; every unit is binary (see the module comment).
pub fn parse_bytes(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let (number, unit) = split_number(t);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size; write a number and a unit, e.g. \"512MiB\" or \"2GiB\"; {SIZE_UNITS}"))?;
    let scale: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" => return Err(format!("size `{text}` has no unit; write e.g. \"{number}MiB\"; {SIZE_UNITS}")),
        "b" => 1.0,
        "kib" | "kb" => 1024.0,
        "mib" | "mb" => 1024.0 * 1024.0,
        "gib" | "gb" => 1024.0f64.powi(3),
        "tib" | "tb" => 1024.0f64.powi(4),
        _ => return Err(format!("unknown size unit in `{text}`; {SIZE_UNITS}")),
    };
    if !value.is_finite() || value < 0.0 {
        return Err(format!("size `{text}` must be zero or positive; {SIZE_UNITS}"));
    }
    let bytes = value * scale;
    if bytes >= u64::MAX as f64 {
        return Err(format!("size `{text}` is too large"));
    }
    Ok(bytes.round() as u64)
}

/// Parses a memory size and returns whole MiB (rounded to the nearest MiB).
pub fn parse_mib(text: &str) -> Result<u32, String> {
    let bytes = parse_bytes(text)?;
    let mib = (bytes as f64 / (1024.0 * 1024.0)).round();
    if mib > f64::from(u32::MAX) {
        return Err(format!("size `{text}` is too large"));
    }
    Ok(mib as u32)
}

fn split_number(t: &str) -> (&str, &str) {
    let end = t.find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | '+'))).unwrap_or(t.len());
    (&t[..end], &t[end..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn durations_in_every_unit() {
        assert_eq!(parse_duration("90s").unwrap(), SimTime::from_secs(90));
        assert_eq!(parse_duration("5m").unwrap(), SimTime::from_secs(300));
        assert_eq!(parse_duration("2h").unwrap(), SimTime::from_secs(7200));
        assert_eq!(parse_duration("1.5h").unwrap(), SimTime::from_secs(5400));
        assert_eq!(parse_duration("250ms").unwrap(), SimTime::from_millis(250));
        assert_eq!(parse_duration("1d").unwrap(), SimTime::from_secs(86_400));
        assert_eq!(parse_duration("12").unwrap(), SimTime::from_secs(12));
        assert_eq!(parse_duration(" 3 m ").unwrap(), SimTime::from_secs(180));
    }

    #[test]
    fn bad_durations_say_what_is_allowed() {
        assert!(parse_duration("5 fortnights").unwrap_err().contains("allowed: us, ms, s, m, h, d"));
        assert!(parse_duration("-5s").unwrap_err().contains("zero or positive"));
        assert!(parse_duration("soon").unwrap_err().contains("not a duration"));
    }

    #[test]
    fn sizes_are_binary_whichever_name_the_unit_has() {
        assert_eq!(parse_mib("512MiB").unwrap(), 512);
        assert_eq!(parse_mib("2GiB").unwrap(), 2048);
        assert_eq!(parse_mib("2GB").unwrap(), 2048);
        assert_eq!(parse_mib("9000MB").unwrap(), 9000);
        assert_eq!(parse_bytes("1.5GB").unwrap(), 1_610_612_736);
        assert_eq!(parse_bytes("10 KiB").unwrap(), 10_240);
        assert_eq!(parse_bytes("10 kb").unwrap(), 10_240);
        assert_eq!(parse_bytes("1TB").unwrap(), 1 << 40);
        assert_eq!(parse_bytes("300B").unwrap(), 300);
    }

    #[test]
    fn a_size_without_a_unit_is_refused_with_the_accepted_units() {
        let error = parse_mib("9500").unwrap_err();
        assert!(error.contains("has no unit"), "{error}");
        assert!(error.contains("\"9500MiB\""), "{error}");
        assert!(error.contains(SIZE_UNITS), "{error}");
    }

    #[test]
    fn every_size_error_names_the_accepted_units() {
        for bad in ["2 bananas", "-1GiB", "lots", "", "9500", "1e400GiB"] {
            let error = parse_mib(bad).unwrap_err();
            assert!(error.contains("KiB, MiB, GiB") || error.contains("too large"), "`{bad}`: {error}");
        }
    }

    proptest! {
        #[test]
        fn parsers_never_panic(s in ".{0,20}") {
            let _ = parse_duration(&s);
            let _ = parse_bytes(&s);
            let _ = parse_mib(&s);
        }
    }
}
