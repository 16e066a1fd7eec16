//! What came of an effect, and what a failure means.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::Answer;

/// What came of one effect.
///
/// On the wire (from the executor): `{"ok": true, "value": <the resource as plain JSON>}` or
/// `{"ok": false, "attempted": bool, "status"?: <HTTP status>, "code"?: <Twilio error code>,
/// "message": "...", "moreInfo"?: "..."}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "Wire", into = "Wire")]
pub enum Outcome {
    /// Twilio answered with a success: the resource (a list for list operations, `true` for a
    /// delete), with the `twilio` client's field names.
    Done(Value),
    Failed(Failure),
}

/// A request that did not succeed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Failure {
    /// Twilio's HTTP status; `None` when no answer came (a timeout, a network error).
    pub status: Option<u16>,
    /// Twilio's error code (`54208`, `21220`…), when it gave one.
    pub code: Option<u32>,
    pub message: String,
    pub more_info: Option<String>,
    /// `false` when the request was never sent (the invocation's deadline had come).
    pub attempted: bool,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Wire {
    ok: bool,
    #[serde(default, skip_serializing_if = "Value::is_null")]
    value: Value,
    #[serde(default = "yes")]
    attempted: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    code: Option<u32>,
    #[serde(default)]
    message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    more_info: Option<String>,
}

fn yes() -> bool {
    true
}

impl From<Wire> for Outcome {
    fn from(w: Wire) -> Outcome {
        if w.ok {
            return Outcome::Done(w.value);
        }
        Outcome::Failed(Failure {
            status: w.status,
            code: w.code,
            message: w.message,
            more_info: w.more_info,
            attempted: w.attempted,
        })
    }
}

impl From<Outcome> for Wire {
    fn from(o: Outcome) -> Wire {
        match o {
            Outcome::Done(value) => Wire {
                ok: true,
                value,
                attempted: true,
                status: None,
                code: None,
                message: String::new(),
                more_info: None,
            },
            Outcome::Failed(f) => Wire {
                ok: false,
                value: Value::Null,
                attempted: f.attempted,
                status: f.status,
                code: f.code,
                message: f.message,
                more_info: f.more_info,
            },
        }
    }
}

/// The first outcome of a batch, or (when the executor gave none: it never should) a failure
/// that counts as ambiguous, the safe reading of "we do not know what happened".
pub fn first(outcomes: Vec<Outcome>) -> Outcome {
    outcomes
        .into_iter()
        .next()
        .unwrap_or_else(|| Outcome::Failed(Failure::missing()))
}

impl Outcome {
    pub fn is_done(&self) -> bool {
        matches!(self, Outcome::Done(_))
    }

    /// The resource, or the failure.
    pub fn into_result(self) -> Result<Value, Failure> {
        match self {
            Outcome::Done(v) => Ok(v),
            Outcome::Failed(f) => Err(f),
        }
    }

    /// For a read: the resource, `None` when Twilio answered 404, or the failure.
    pub fn found(self) -> Result<Option<Value>, Failure> {
        match self {
            Outcome::Done(v) => Ok(Some(v)),
            Outcome::Failed(f) if f.status == Some(404) => Ok(None),
            Outcome::Failed(f) => Err(f),
        }
    }

    /// For a delete: done, or not there to begin with (404), or the failure.
    pub fn gone(self) -> Result<(), Failure> {
        self.found().map(|_| ())
    }

    /// The failure, if it is one.
    pub fn failure(&self) -> Option<&Failure> {
        match self {
            Outcome::Done(_) => None,
            Outcome::Failed(f) => Some(f),
        }
    }
}

impl Failure {
    /// A failure standing for a result the executor did not give.
    pub fn missing() -> Failure {
        Failure {
            message: "the executor gave no result for this request".into(),
            attempted: true,
            ..Failure::default()
        }
    }

    /// Whether the request may have been carried out although it failed: it was sent and
    /// either no answer came (timeout, network) or Twilio answered 5xx. A 4xx (429 included)
    /// means it was not; a request never sent (deadline) was not.
    pub fn ambiguous(&self) -> bool {
        self.attempted && self.status.is_none_or(|s| s >= 500)
    }

    /// Twilio answered `status`.
    pub fn is(&self, status: u16) -> bool {
        self.status == Some(status)
    }

    /// Twilio answered `status` with error `code`.
    pub fn is_code(&self, status: u16, code: u32) -> bool {
        self.status == Some(status) && self.code == Some(code)
    }

    /// Twilio's error as our answers carry it (`twilioError`): `{code, status, message, moreInfo}`
    /// when Twilio gave a code, else `{message}`.
    pub fn twilio_error(&self) -> Value {
        if let Some(code) = self.code {
            let mut out = Map::new();
            out.insert("code".into(), json!(code));
            if let Some(s) = self.status {
                out.insert("status".into(), json!(s));
            }
            out.insert("message".into(), json!(self.message));
            if let Some(m) = &self.more_info {
                out.insert("moreInfo".into(), json!(m));
            }
            return Value::Object(out);
        }
        json!({ "message": self.message })
    }

    /// The HTTP status our caller gets for it: a request never sent is 504 (our deadline);
    /// Twilio's 401/403 mean our credentials are wrong (500); other 4xx pass through (a 400
    /// "Call is not in-progress", a 404); 429, 5xx and no answer at all are 502.
    pub fn http_status(&self) -> u16 {
        if !self.attempted {
            return 504;
        }
        match self.status {
            Some(401) | Some(403) => 500,
            Some(s) if (400..500).contains(&s) && s != 429 => s,
            _ => 502,
        }
    }

    /// Our answer when `what` (e.g. "Parking call CA…: the call update") failed this way:
    /// `{error: "<what> failed: <message>", twilioError}` with [`Failure::http_status`], or
    /// `{error: "<what> was not attempted: <message>"}` (504) when it was never sent.
    pub fn answer(&self, what: &str) -> Answer {
        let status = self.http_status();
        if !self.attempted {
            return Answer::json(
                status,
                json!({ "error": format!("{what} was not attempted: {}", self.message) }),
            );
        }
        Answer::json(
            status,
            json!({ "error": format!("{what} failed: {}", self.message), "twilioError": self.twilio_error() }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn failed(status: Option<u16>, attempted: bool) -> Failure {
        Failure {
            status,
            attempted,
            message: "boom".into(),
            ..Failure::default()
        }
    }

    #[test]
    fn the_wire_reads_both_ways() {
        let done: Outcome =
            serde_json::from_value(json!({"ok": true, "value": {"sid": "CA1"}})).expect("done");
        assert_eq!(done, Outcome::Done(json!({"sid": "CA1"})));
        let f: Outcome = serde_json::from_value(
            json!({"ok": false, "status": 409, "code": 54208, "message": "exists", "moreInfo": "https://x"}),
        )
        .expect("failed");
        let Outcome::Failed(f) = f else {
            panic!("a failure")
        };
        assert!(f.attempted, "attempted unless the executor says otherwise");
        assert!(f.is_code(409, 54208) && f.is(409) && !f.is_code(409, 1));
        let back = serde_json::to_value(Outcome::Failed(f)).expect("json");
        assert_eq!(
            back,
            json!({"ok": false, "attempted": true, "status": 409, "code": 54208, "message": "exists", "moreInfo": "https://x"})
        );
        assert!(
            serde_json::from_value::<Outcome>(json!({"status": 500})).is_err(),
            "ok is required"
        );
    }

    #[test]
    fn ambiguity() {
        assert!(
            failed(None, true).ambiguous(),
            "a timeout may have been carried out"
        );
        assert!(failed(Some(500), true).ambiguous());
        assert!(failed(Some(503), true).ambiguous());
        assert!(
            !failed(Some(429), true).ambiguous(),
            "throttled: not carried out"
        );
        assert!(!failed(Some(412), true).ambiguous());
        assert!(!failed(None, false).ambiguous(), "never sent");
        assert!(Failure::missing().ambiguous());
    }

    #[test]
    fn our_answers() {
        let cases = [
            (Some(400), true, 400),
            (Some(404), true, 404),
            (Some(401), true, 500),
            (Some(403), true, 500),
            (Some(429), true, 502),
            (Some(500), true, 502),
            (None, true, 502),
            (None, false, 504),
        ];
        for (status, attempted, ours) in cases {
            assert_eq!(
                failed(status, attempted).http_status(),
                ours,
                "{status:?} {attempted}"
            );
        }
        let a = Failure {
            code: Some(20404),
            more_info: Some("u".into()),
            ..failed(Some(404), true)
        }
        .answer("Updating X");
        assert_eq!(a.status, 404);
        assert_eq!(
            a.body,
            json!({"error": "Updating X failed: boom", "twilioError": {"code": 20404, "status": 404, "message": "boom", "moreInfo": "u"}})
        );
        let t = failed(None, true).answer("Reading Y");
        assert_eq!(t.body["twilioError"], json!({"message": "boom"}));
        let d = failed(None, false).answer("Reading Y");
        assert_eq!(
            (d.status, d.body["error"].clone()),
            (504, json!("Reading Y was not attempted: boom"))
        );
    }

    #[test]
    fn reads_and_deletes() {
        assert_eq!(Outcome::Failed(failed(Some(404), true)).found(), Ok(None));
        assert_eq!(Outcome::Done(json!(1)).found(), Ok(Some(json!(1))));
        assert!(Outcome::Failed(failed(Some(500), true)).gone().is_err());
        assert_eq!(Outcome::Failed(failed(Some(404), true)).gone(), Ok(()));
        assert!(first(vec![]).failure().is_some_and(Failure::ambiguous));
    }

    proptest! {
        #[test]
        fn any_wire_value_reads_or_is_refused(text in any::<String>(), status in any::<u16>(), ok in any::<bool>()) {
            let _ = serde_json::from_str::<Outcome>(&text);
            let v = json!({"ok": ok, "status": status, "message": text, "value": text});
            if let Ok(Outcome::Failed(f)) = serde_json::from_value::<Outcome>(v) {
                let a = f.answer(&text);
                prop_assert!((400..600).contains(&a.status));
            }
        }
    }
}
