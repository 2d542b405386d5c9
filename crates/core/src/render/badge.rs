//! Shields-style badges (`controlgate badge`): a flat two-part SVG, label on grey, message on
//! its colour. Pure; the text is escaped for XML, the widths estimated from the characters
//! (Verdana 11 px, as shields.io lays them out).

use super::escape::html;

/// Badge colours, shields.io's palette.
pub const GREEN: &str = "#4c1";
pub const YELLOWGREEN: &str = "#a4a61d";
pub const YELLOW: &str = "#dfb317";
pub const ORANGE: &str = "#fe7d37";
pub const RED: &str = "#e05d44";
pub const GREY: &str = "#9f9f9f";

/// The colour of a percentage: 90+ green, 80+ yellow-green, 70+ yellow, 60+ orange, else red.
pub fn percent_color(p: f64) -> &'static str {
    match p {
        p if p >= 90.0 => GREEN,
        p if p >= 80.0 => YELLOWGREEN,
        p if p >= 70.0 => YELLOW,
        p if p >= 60.0 => ORANGE,
        _ => RED,
    }
}

/// Estimated width in px of `s` in Verdana 11 px (narrow, wide and average glyphs).
fn text_width(s: &str) -> u32 {
    s.chars()
        .map(|c| match c {
            'i' | 'l' | 'j' | '.' | ',' | ':' | ';' | '!' | '|' | '\'' | ' ' => 4,
            'f' | 't' | 'r' | 'I' | '(' | ')' | '[' | ']' | '-' => 5,
            'm' | 'w' | 'M' | 'W' | '%' | '@' => 11,
            c if c.is_ascii_uppercase() || c.is_ascii_digit() => 8,
            _ => 7,
        })
        .sum()
}

/// One flat badge: `label | message` with the message on `color`.
pub fn svg(label: &str, message: &str, color: &str) -> String {
    let (label, message): (String, String) = (
        label.chars().take(40).collect(),
        message.chars().take(40).collect(),
    );
    let lw = text_width(&label) + 10;
    let mw = text_width(&message) + 10;
    let w = lw + mw;
    // SVG is XML: the HTML escape (`& < > " '`, controls as `<U+XXXX>`) is valid in it.
    let (l, m) = (html(&label, 40), html(&message, 40));
    let color = html(color, 20);
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"20\" role=\"img\" \
         aria-label=\"{l}: {m}\"><title>{l}: {m}</title>\
         <linearGradient id=\"s\" x2=\"0\" y2=\"100%\"><stop offset=\"0\" stop-color=\"#bbb\" \
         stop-opacity=\".1\"/><stop offset=\"1\" stop-opacity=\".1\"/></linearGradient>\
         <clipPath id=\"r\"><rect width=\"{w}\" height=\"20\" rx=\"3\" fill=\"#fff\"/></clipPath>\
         <g clip-path=\"url(#r)\"><rect width=\"{lw}\" height=\"20\" fill=\"#555\"/>\
         <rect x=\"{lw}\" width=\"{mw}\" height=\"20\" fill=\"{color}\"/>\
         <rect width=\"{w}\" height=\"20\" fill=\"url(#s)\"/></g>\
         <g fill=\"#fff\" text-anchor=\"middle\" font-family=\"Verdana,Geneva,DejaVu Sans,sans-serif\" \
         font-size=\"11\"><text x=\"{lx}\" y=\"15\" fill=\"#010101\" fill-opacity=\".3\">{l}</text>\
         <text x=\"{lx}\" y=\"14\">{l}</text>\
         <text x=\"{mx}\" y=\"15\" fill=\"#010101\" fill-opacity=\".3\">{m}</text>\
         <text x=\"{mx}\" y=\"14\">{m}</text></g></svg>\n",
        lx = f64::from(lw) / 2.0,
        mx = f64::from(lw) + f64::from(mw) / 2.0,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_widths_grow_with_it() {
        let b = svg("a<b", "x&\"y", RED);
        assert!(b.contains("a&lt;b") && b.contains("x&amp;&quot;y") && !b.contains("a<b"));
        let short = svg("cov", "1%", GREEN);
        let long = svg("coverage", "100.00%", GREEN);
        let width = |s: &str| -> u32 {
            s.split("width=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap()
                .parse()
                .unwrap()
        };
        assert!(width(&long) > width(&short));
    }

    #[test]
    fn percent_colours() {
        assert_eq!(percent_color(95.0), GREEN);
        assert_eq!(percent_color(85.0), YELLOWGREEN);
        assert_eq!(percent_color(59.99), RED);
    }
}
