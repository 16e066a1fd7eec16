//! The two TwiML documents of call parking, written exactly as the `twilio` library's
//! `VoiceResponse` would write them for the same input (compared in tests/parking.test.js).

use crate::xml;

/// The XML declaration `VoiceResponse.toString()` starts with.
const DECLARATION: &str = r#"<?xml version="1.0" encoding="UTF-8"?>"#;
/// Twilio's documented limit on the `Twiml` parameter of a call update.
pub const TWIML_MAX_CHARS: usize = 4000;
/// How many times the hold music repeats (the published solution's value).
pub const HOLD_MUSIC_LOOPS: u32 = 99;
/// Priority of the pickup task, so it is offered before anything waiting in the queue.
pub const PICKUP_PRIORITY: u32 = 1000;

/// `<Response><Play loop="99">{url}</Play></Response>`.
pub fn hold(music_url: &str) -> String {
    format!(
        "{DECLARATION}<Response><Play loop=\"{HOLD_MUSIC_LOOPS}\">{}</Play></Response>",
        xml::text(music_url)
    )
}

/// `<Response><Enqueue workflowSid="WW..."><Task priority="1000">{json}</Task></Enqueue></Response>`.
pub fn enqueue_task(workflow_sid: &str, attributes_json: &str) -> String {
    format!(
        "{DECLARATION}<Response><Enqueue workflowSid=\"{}\"><Task priority=\"{PICKUP_PRIORITY}\">{}</Task></Enqueue></Response>",
        xml::attr(workflow_sid),
        xml::text(&xml::xml_safe_json(attributes_json)),
    )
}

/// Length as Twilio counts it (characters).
pub(crate) fn chars(twiml: &str) -> usize {
    twiml.chars().count()
}
