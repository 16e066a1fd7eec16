//! A machine's step: effects to perform and the state to resume from, or the answer.

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{json, Map, Value};
use wasm_face::FaceError;

use crate::{Effect, Op};

/// The function's HTTP answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Answer {
    pub status: u16,
    /// JSON, or the text of a non-JSON answer (TwiML).
    pub body: Value,
    /// Set for a non-JSON answer (`text/xml`); JSON otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
}

impl Answer {
    /// A JSON answer.
    pub fn json(status: u16, body: Value) -> Answer {
        Answer {
            status,
            body,
            content_type: None,
        }
    }

    /// A text answer of `content_type` (TwiML: `text/xml`).
    pub fn text(status: u16, body: String, content_type: &str) -> Answer {
        Answer {
            status,
            body: Value::String(body),
            content_type: Some(content_type.to_string()),
        }
    }

    /// A crate's error as every function answers it: `{error, code, parameter?}` with its status.
    pub fn error<E: FaceError + ?Sized>(e: &E) -> Answer {
        let mut body = Map::new();
        body.insert("error".into(), json!(e.to_string()));
        body.insert("code".into(), json!(e.code()));
        if let Some(p) = e.parameter() {
            body.insert("parameter".into(), json!(p));
        }
        Answer::json(e.status(), Value::Object(body))
    }

    /// The same answer with `fields` added to (or replacing those of) an object body.
    pub fn with(mut self, fields: Value) -> Answer {
        if let (Value::Object(body), Value::Object(extra)) = (&mut self.body, fields) {
            body.extend(extra);
        }
        self
    }
}

/// What a machine says next. On the wire: `{"state": …, "run": [effects]}` or
/// `{"answer": {status, body, contentType?}}`.
#[derive(Debug, Clone, PartialEq)]
pub enum Step<S> {
    /// Perform `effects` (all at once), then resume `state` with their outcomes in this order.
    Run { state: S, effects: Vec<Effect> },
    /// Answer the request.
    Answer(Answer),
}

impl<S> Step<S> {
    /// Perform one operation.
    pub fn one(state: S, op: Op) -> Step<S> {
        Step::Run {
            state,
            effects: vec![op.into()],
        }
    }

    /// Perform several operations at once.
    pub fn all(state: S, ops: Vec<Op>) -> Step<S> {
        Step::Run {
            state,
            effects: ops.into_iter().map(Effect::from).collect(),
        }
    }

    pub fn answer(answer: Answer) -> Step<S> {
        Step::Answer(answer)
    }

    /// The same step with its state turned into another (a machine embedding another).
    pub fn map<T>(self, f: impl FnOnce(S) -> T) -> Step<T> {
        match self {
            Step::Run { state, effects } => Step::Run {
                state: f(state),
                effects,
            },
            Step::Answer(a) => Step::Answer(a),
        }
    }

    /// The answer, if this step is one.
    pub fn as_answer(&self) -> Option<&Answer> {
        match self {
            Step::Answer(a) => Some(a),
            Step::Run { .. } => None,
        }
    }
}

impl<S: Serialize> Serialize for Step<S> {
    fn serialize<Z: Serializer>(&self, serializer: Z) -> Result<Z::Ok, Z::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        match self {
            Step::Run { state, effects } => {
                map.serialize_entry("state", state)?;
                map.serialize_entry("run", effects)?;
            }
            Step::Answer(a) => map.serialize_entry("answer", a)?,
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Nope;
    impl std::fmt::Display for Nope {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "missing required parameter: callSid")
        }
    }
    impl FaceError for Nope {
        fn code(&self) -> &'static str {
            "missing_parameter"
        }
        fn status(&self) -> u16 {
            400
        }
        fn parameter(&self) -> Option<&str> {
            Some("callSid")
        }
    }

    #[test]
    fn steps_on_the_wire() {
        let run: Step<u8> = Step::one(
            7,
            Op::FetchCall {
                call_sid: "CA1".into(),
            },
        );
        assert_eq!(
            serde_json::to_value(&run).expect("json"),
            json!({"state": 7, "run": [{"op": {"kind": "fetchCall", "callSid": "CA1"},
                "call": {"client": {"path": [["calls", "CA1"]], "request": "fetch"}}, "retry": true}]})
        );
        let mapped = run.map(|s| format!("s{s}"));
        assert!(matches!(&mapped, Step::Run { state, .. } if state == "s7"));
        let done: Step<u8> = Step::answer(Answer::text(200, "<Response/>".into(), "text/xml"));
        assert_eq!(
            serde_json::to_value(&done).expect("json"),
            json!({"answer": {"status": 200, "body": "<Response/>", "contentType": "text/xml"}})
        );
    }

    #[test]
    fn errors_answer_as_every_function_does() {
        let a = Answer::error(&Nope);
        assert_eq!(a.status, 400);
        assert_eq!(
            a.body,
            json!({"error": "missing required parameter: callSid", "code": "missing_parameter", "parameter": "callSid"})
        );
        let more = a.with(json!({"wrapUp": {"handled": true}}));
        assert_eq!(more.body["wrapUp"]["handled"], json!(true));
    }
}
