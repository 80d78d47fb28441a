//! Ginkgo label expressions (`--label-filter`): `&&`, `||`, `!`, parentheses, `,` as or,
//! case-insensitive label names. Parsed once into a tree; evaluated per case. Pure.

/// A parsed label expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LabelExpr {
    /// The case has this label (lowercased).
    Label(String),
    /// Negation.
    Not(Box<LabelExpr>),
    /// Both hold.
    And(Box<LabelExpr>, Box<LabelExpr>),
    /// Either holds.
    Or(Box<LabelExpr>, Box<LabelExpr>),
}

/// Why an expression could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "malformed --label-filter `{expr}`: {problem}; expected labels joined by &&, ||, ',' and !, with parentheses, e.g. 'dedup && !serial'"
)]
pub struct LabelExprError {
    expr: String,
    problem: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Label(String),
    And,
    Or,
    Not,
    Open,
    Close,
}

impl LabelExpr {
    /// Parses a Ginkgo label filter.
    pub fn parse(text: &str) -> Result<Self, LabelExprError> {
        let shown: String = text.chars().take(SHOWN_CHARS).collect();
        let shown = if shown.len() < text.len() { format!("{shown}…") } else { shown };
        let fail = |problem: String| LabelExprError { expr: shown.clone(), problem };
        let tokens = tokenize(text).map_err(fail)?;
        if tokens.is_empty() {
            return Err(fail("it is empty".into()));
        }
        if tokens.len() > MAX_TOKENS {
            return Err(fail(format!("it has {} tokens, more than the {MAX_TOKENS} allowed", tokens.len())));
        }
        let mut parser = Parser { tokens, pos: 0, depth: 0 };
        let expr = parser.or().map_err(fail)?;
        if parser.pos != parser.tokens.len() {
            return Err(fail(format!("unexpected {:?} at token {}", parser.tokens[parser.pos], parser.pos + 1)));
        }
        Ok(expr)
    }

    /// Whether a case with `labels` is selected.
    pub fn matches(&self, labels: &[&str]) -> bool {
        match self {
            LabelExpr::Label(want) => labels.iter().any(|l| l.eq_ignore_ascii_case(want)),
            LabelExpr::Not(inner) => !inner.matches(labels),
            LabelExpr::And(a, b) => a.matches(labels) && b.matches(labels),
            LabelExpr::Or(a, b) => a.matches(labels) || b.matches(labels),
        }
    }
}

/// Canonical text: `!` binds tightest, then `&&`, then `||`; parentheses only where needed.
impl std::fmt::Display for LabelExpr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // An `||` under an `&&` needs parentheses; nothing else does.
        let grouped = |e: &LabelExpr, f: &mut std::fmt::Formatter<'_>, inside_and: bool| {
            if inside_and && matches!(e, LabelExpr::Or(..)) { write!(f, "({e})") } else { write!(f, "{e}") }
        };
        match self {
            LabelExpr::Label(label) => write!(f, "{label}"),
            LabelExpr::Not(inner) => match inner.as_ref() {
                LabelExpr::Label(_) | LabelExpr::Not(_) => write!(f, "!{inner}"),
                _ => write!(f, "!({inner})"),
            },
            LabelExpr::And(a, b) => {
                grouped(a, f, true)?;
                write!(f, " && ")?;
                grouped(b, f, true)
            }
            LabelExpr::Or(a, b) => {
                grouped(a, f, false)?;
                write!(f, " || ")?;
                grouped(b, f, false)
            }
        }
    }
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '&' | '|' => {
                chars.next();
                if chars.next() != Some(c) {
                    return Err(format!("`{c}` must be doubled (`{c}{c}`)"));
                }
                tokens.push(if c == '&' { Token::And } else { Token::Or });
            }
            ',' => {
                chars.next();
                tokens.push(Token::Or);
            }
            '!' => {
                chars.next();
                tokens.push(Token::Not);
            }
            '(' => {
                chars.next();
                tokens.push(Token::Open);
            }
            ')' => {
                chars.next();
                tokens.push(Token::Close);
            }
            _ => {
                let mut label = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() || "&|,!()".contains(c) {
                        break;
                    }
                    label.push(c.to_ascii_lowercase());
                    chars.next();
                }
                tokens.push(Token::Label(label));
            }
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    /// `!` and `(` levels open at the current token.
    depth: usize,
}

/// Most tokens (labels, operators, parentheses) in one expression: far more than any real filter,
/// few enough that evaluating and dropping the tree cannot exhaust the stack.
pub const MAX_TOKENS: usize = 1024;
/// Most `!` and `(` levels nested in one another.
pub const MAX_DEPTH: usize = 64;
/// How much of a rejected expression its error quotes.
const SHOWN_CHARS: usize = 80;

impl Parser {
    fn next_is(&self, token: &Token) -> bool {
        self.tokens.get(self.pos) == Some(token)
    }

    fn or(&mut self) -> Result<LabelExpr, String> {
        let mut left = self.and()?;
        while self.next_is(&Token::Or) {
            self.pos += 1;
            left = LabelExpr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<LabelExpr, String> {
        let mut left = self.unary()?;
        while self.next_is(&Token::And) {
            self.pos += 1;
            left = LabelExpr::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<LabelExpr, String> {
        if matches!(self.tokens.get(self.pos), Some(Token::Not | Token::Open)) {
            if self.depth == MAX_DEPTH {
                return Err(format!("`!` and `(` nest deeper than {MAX_DEPTH} levels"));
            }
            self.depth += 1;
            let nested = self.nested();
            self.depth -= 1;
            return nested;
        }
        match self.tokens.get(self.pos).cloned() {
            Some(Token::Label(label)) => {
                self.pos += 1;
                Ok(LabelExpr::Label(label))
            }
            Some(other) => Err(format!("expected a label, `!` or `(`, found {other:?}")),
            None => Err("expression ends where a label was expected".into()),
        }
    }

    /// `!x` or `( x )`.
    fn nested(&mut self) -> Result<LabelExpr, String> {
        match self.tokens.get(self.pos).cloned() {
            Some(Token::Not) => {
                self.pos += 1;
                Ok(LabelExpr::Not(Box::new(self.unary()?)))
            }
            Some(Token::Open) => {
                self.pos += 1;
                let inner = self.or()?;
                if !self.next_is(&Token::Close) {
                    return Err("unbalanced parenthesis".into());
                }
                self.pos += 1;
                Ok(inner)
            }
            _ => Err("expected `!` or `(`".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions_select_by_labels() {
        let table: &[(&str, &[&str], bool)] = &[
            ("dedup", &["dedup"], true),
            ("dedup", &["health"], false),
            ("DEDUP", &["dedup"], true),
            ("dedup", &["Dedup"], true),
            ("!dedup", &["dedup"], false),
            ("!dedup", &[], true),
            ("dedup && serial", &["dedup", "serial"], true),
            ("dedup && serial", &["dedup"], false),
            ("dedup || health", &["health"], true),
            ("dedup, health", &["health"], true),
            ("load && !serial", &["load", "serial"], false),
            ("!(a || b) && c", &["c"], true),
            ("!(a || b) && c", &["a", "c"], false),
            ("a || b && c", &["a"], true),
            ("(a || b) && c", &["a"], false),
            ("!!a", &["a"], true),
        ];
        for (expr, labels, want) in table {
            let parsed = LabelExpr::parse(expr);
            assert!(parsed.is_ok(), "{expr}: {parsed:?}");
            assert_eq!(parsed.map(|e| e.matches(labels)), Ok(*want), "{expr} on {labels:?}");
        }
    }

    #[test]
    fn display_is_canonical_and_parses_back_to_the_same_tree() {
        for (text, canonical) in [
            ("A,b", "a || b"),
            ("!(a || b) && c", "!(a || b) && c"),
            ("(a || b) && !c", "(a || b) && !c"),
            ("a || b && c", "a || b && c"),
            ("!!a", "!!a"),
        ] {
            let parsed = LabelExpr::parse(text).map_err(|e| e.to_string());
            let shown = parsed.as_ref().map(ToString::to_string);
            assert_eq!(shown.as_deref(), Ok(canonical), "{text}");
            assert_eq!(LabelExpr::parse(canonical).map_err(|e| e.to_string()), parsed, "{text}");
        }
    }

    #[test]
    fn deep_or_long_expressions_are_rejected_not_a_stack_overflow() {
        let nots = "!".repeat(100_000) + "a";
        let err = LabelExpr::parse(&nots).map(|_| ()).map_err(|e| e.problem);
        assert!(err.as_ref().is_err_and(|p| p.contains("more than the 1024")), "{err:?}");
        let deep = format!("{}a", "!".repeat(MAX_DEPTH + 1));
        let err = LabelExpr::parse(&deep).map(|_| ()).map_err(|e| e.problem);
        assert!(err.as_ref().is_err_and(|p| p.contains("deeper than 64")), "{err:?}");
        let parens = format!("{}a{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert!(LabelExpr::parse(&parens).is_ok(), "{MAX_DEPTH} levels are allowed");
        let long = vec!["a"; 600].join("&&");
        assert!(LabelExpr::parse(&long).is_err(), "1199 tokens");
    }

    #[test]
    fn malformed_expressions_are_rejected_with_the_expression() {
        for expr in ["", "a &&", "(a", "a)", "a & b", "a || || b", "&& a", "a b"] {
            let err = LabelExpr::parse(expr).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(err.contains("malformed --label-filter"), "{expr}: {err}");
        }
    }
}
