//! The service's voicemail settings, from its environment (`.env.example`).

use serde::{Deserialize, Serialize};

use values::env::EnvError;

use crate::VoicemailError;

/// The environment as the shim passes it (only these names are read).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub struct Env {
    #[serde(default)]
    pub domain_name: Option<String>,
    #[serde(default)]
    pub voicemail_transcribe: Option<String>,
    #[serde(default)]
    pub voicemail_max_seconds: Option<String>,
    #[serde(default)]
    pub voicemail_media_format: Option<String>,
    #[serde(default)]
    pub voicemail_sync_sid: Option<String>,
    /// Flex's Sync service, when VOICEMAIL_SYNC_SID is not set.
    #[serde(default)]
    pub sync_service_sid: Option<String>,
    /// The TaskRouter workspace (`TWILIO_FLEX_WORKSPACE_SID` is its other name).
    #[serde(default)]
    pub workspace_sid: Option<String>,
    #[serde(default)]
    pub twilio_flex_workspace_sid: Option<String>,
    /// The live agents view's service, and Flex's (it is not the board's when they are the same).
    #[serde(default)]
    pub wallboard_sync_sid: Option<String>,
    #[serde(default)]
    pub twilio_flex_sync_sid: Option<String>,
}

impl Env {
    /// Whether the live agents view has a service of its own (`values::env::board_service`), so
    /// that a changed box's unheard count is read for it.
    pub fn board(&self) -> bool {
        values::env::board_service(|name| match name {
            "WALLBOARD_SYNC_SID" => self.wallboard_sync_sid.as_deref(),
            "TWILIO_FLEX_SYNC_SID" => self.twilio_flex_sync_sid.as_deref(),
            "SYNC_SERVICE_SID" => self.sync_service_sid.as_deref(),
            _ => None,
        })
        .is_some()
    }

    /// The workspace, under either of its names (`None` when neither is set); both set to
    /// different values is a 500 naming them (`values::env::setting`).
    pub fn workspace(&self) -> Result<Option<String>, VoicemailError> {
        let lookup = |name: &str| match name {
            "WORKSPACE_SID" => self.workspace_sid.as_deref(),
            "TWILIO_FLEX_WORKSPACE_SID" => self.twilio_flex_workspace_sid.as_deref(),
            _ => None,
        };
        values::env::setting("WORKSPACE_SID", lookup)
            .map(|found| found.map(|s| s.value))
            .map_err(|c| VoicemailError::BadConfig(EnvError::new(c.canonical, "", c.to_string())))
    }
}

/// Validated settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    /// `https://<DOMAIN_NAME>`: where Twilio reaches this service's functions.
    pub base_url: String,
    /// Ask Twilio for a transcription (`VOICEMAIL_TRANSCRIBE`, default false).
    pub transcribe: bool,
    /// `<Record maxLength>` in seconds (`VOICEMAIL_MAX_SECONDS`, 1 to 3600, default 120; Twilio
    /// transcribes recordings of up to 120 s only).
    pub max_seconds: u32,
    /// `wav` or `mp3` (`VOICEMAIL_MEDIA_FORMAT`, default `mp3`): the media the box streams.
    pub media_format: String,
    /// `VOICEMAIL_SYNC_SID`: a Sync service of its own for voicemails and claims (`IS…`), or
    /// `None` to use `SYNC_SERVICE_SID`.
    pub sync_service_sid: Option<String>,
}

pub const DEFAULT_MAX_SECONDS: u32 = 120;

fn set(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl Settings {
    pub fn from_env(env: &Env) -> Result<Settings, VoicemailError> {
        let domain = set(&env.domain_name).ok_or(VoicemailError::BadConfig(EnvError::new(
            "DOMAIN_NAME",
            "",
            "is not set",
        )))?;
        if domain.contains('/') || domain.contains(char::is_whitespace) {
            return Err(VoicemailError::BadConfig(EnvError::new(
                "DOMAIN_NAME",
                domain,
                "must be a host name",
            )));
        }
        let transcribe = match set(&env.voicemail_transcribe).map(str::to_ascii_lowercase) {
            None => false,
            Some(v) if v == "true" => true,
            Some(v) if v == "false" => false,
            Some(v) => {
                return Err(VoicemailError::BadConfig(EnvError::new(
                    "VOICEMAIL_TRANSCRIBE",
                    &v,
                    "must be true or false",
                )))
            }
        };
        let max_seconds = match set(&env.voicemail_max_seconds) {
            None => DEFAULT_MAX_SECONDS,
            Some(v) => match v.parse::<u32>() {
                Ok(n) if (1..=3600).contains(&n) => n,
                _ => {
                    return Err(VoicemailError::BadConfig(EnvError::new(
                        "VOICEMAIL_MAX_SECONDS",
                        v,
                        "must be a whole number of seconds from 1 to 3600",
                    )))
                }
            },
        };
        let media_format = match set(&env.voicemail_media_format).map(str::to_ascii_lowercase) {
            None => "mp3".to_string(),
            Some(v) if v == "mp3" || v == "wav" => v,
            Some(v) => {
                return Err(VoicemailError::BadConfig(EnvError::new(
                    "VOICEMAIL_MEDIA_FORMAT",
                    &v,
                    "must be mp3 or wav",
                )))
            }
        };
        let sync_service_sid = match set(&env.voicemail_sync_sid) {
            None => None,
            Some(v) if crate::is_sid(v, "IS") => Some(v.to_string()),
            Some(v) => {
                return Err(VoicemailError::BadConfig(EnvError::new(
                    "VOICEMAIL_SYNC_SID",
                    v,
                    "must be a Sync service SID (IS…)",
                )))
            }
        };
        Ok(Settings {
            base_url: format!("https://{domain}"),
            transcribe,
            max_seconds,
            media_format,
            sync_service_sid,
        })
    }

    /// The Sync service of voicemails and claims: `VOICEMAIL_SYNC_SID`, else `SYNC_SERVICE_SID`
    /// (not `TWILIO_FLEX_SYNC_SID`: a setting of its own); a 500 naming `SYNC_SERVICE_SID` when
    /// neither is set.
    pub fn sync_service(&self, env: &Env) -> Result<String, VoicemailError> {
        if let Some(own) = &self.sync_service_sid {
            return Ok(own.clone());
        }
        set(&env.sync_service_sid)
            .map(str::to_string)
            .ok_or(VoicemailError::BadConfig(EnvError::new(
                "SYNC_SERVICE_SID",
                "",
                "is not set",
            )))
    }

    /// The content type of the media the box answers (`audio/wav` or `audio/mpeg`).
    pub fn media_type(&self) -> &'static str {
        if self.media_format == "wav" {
            "audio/wav"
        } else {
            "audio/mpeg"
        }
    }
}
