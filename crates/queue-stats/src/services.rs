//! Where queue statistics read and write, from the settings the functions hand the instance
//! (`crate::SETTINGS`): the TaskRouter workspace, Flex's Sync service (the records) and the
//! Sync service of the parked calls shown on the board, and the wallboard's own Sync service with
//! the identity that reads it there.

use serde::{Deserialize, Serialize};
use values::env::{board_service, flex_services, optional};
use values::sync::{BOARD_IDENTITY, BOARD_PERMISSION};

use crate::store::BoardSettings;
use crate::ConfigError;

/// The services of one instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Services {
    /// `WORKSPACE_SID` (or its alias `TWILIO_FLEX_WORKSPACE_SID`).
    pub workspace_sid: String,
    /// `TWILIO_FLEX_SYNC_SID`: where the dashboard's records go.
    pub sync_service_sid: String,
    /// Where `Global.ParkedCalls` is read (docs/direct-calls.md): `SYNC_SERVICE_SID`, else
    /// Flex's service; `None` when parked calls are left off the board (the benchmark).
    pub parked_service_sid: Option<String>,
    /// The wallboard's own Sync service (`WALLBOARD_SYNC_SID`, when it is neither Flex's nor
    /// parking's: `values::env::board_service`, the live agents view's rule too) and the board
    /// tokens' identity (`values::sync`, the one `auth` mints): every record is copied there.
    /// `None`: no copies.
    pub board: Option<BoardSettings>,
}

impl Services {
    /// The services from `lookup` (a setting's text by name). A missing workspace or Flex
    /// service, or a setting given two different values under two names, is an error naming it.
    /// `parked`: whether the parked calls are on the board.
    pub fn from_env<'a>(
        lookup: impl Fn(&str) -> Option<&'a str> + Copy,
        parked: bool,
    ) -> Result<Services, ConfigError> {
        let (workspace_sid, sync_service_sid) = flex_services(lookup)?;
        let parked_service_sid = match optional("SYNC_SERVICE_SID", lookup)? {
            _ if !parked => None,
            Some(parking) => Some(parking),
            None => Some(sync_service_sid.clone()),
        };
        let board = board_service(lookup).map(|service_sid| BoardSettings {
            service_sid,
            identity: BOARD_IDENTITY.to_string(),
            read: BOARD_PERMISSION.read,
            write: BOARD_PERMISSION.write,
            manage: BOARD_PERMISSION.manage,
        });
        Ok(Services {
            workspace_sid,
            sync_service_sid,
            parked_service_sid,
            board,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<&'a str> + Copy {
        move |name: &str| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }

    const WS: &str = "WSaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const FLEX: &str = "ISaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const PARKING: &str = "ISbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    #[test]
    fn the_parked_calls_are_read_from_parkings_service_else_flexs() {
        let own = [
            ("TWILIO_FLEX_WORKSPACE_SID", WS),
            ("TWILIO_FLEX_SYNC_SID", FLEX),
            ("SYNC_SERVICE_SID", PARKING),
        ];
        let services = Services::from_env(lookup(&own), true).unwrap();
        assert_eq!(
            services,
            Services {
                workspace_sid: WS.into(),
                sync_service_sid: FLEX.into(),
                parked_service_sid: Some(PARKING.into()),
                board: None,
            }
        );
        // Without SYNC_SERVICE_SID (or blank), Flex's service; the workspace under its canonical name.
        let flex = [
            ("WORKSPACE_SID", WS),
            ("TWILIO_FLEX_SYNC_SID", FLEX),
            ("SYNC_SERVICE_SID", " "),
        ];
        let services = Services::from_env(lookup(&flex), true).unwrap();
        assert_eq!(services.parked_service_sid.as_deref(), Some(FLEX));
        assert_eq!(services.workspace_sid, WS);
        // Left off the board: no parked service at all.
        let off = Services::from_env(lookup(&own), false).unwrap();
        assert_eq!(off.parked_service_sid, None);
    }

    #[test]
    fn the_board_is_its_own_service_read_by_the_board_identity() {
        const BOARD: &str = "IScccccccccccccccccccccccccccccccc";
        let with = |board: &'static str| {
            let pairs = [
                ("WORKSPACE_SID", WS),
                ("TWILIO_FLEX_SYNC_SID", FLEX),
                ("SYNC_SERVICE_SID", PARKING),
                ("WALLBOARD_SYNC_SID", board),
            ];
            Services::from_env(lookup(&pairs), true).unwrap().board
        };
        assert_eq!(
            with(BOARD),
            Some(BoardSettings {
                service_sid: BOARD.into(),
                identity: "wallboard-reader".into(),
                read: true,
                write: false,
                manage: false,
            })
        );
        // Flex's or parking's service is never the board's (its ACL would expose their data);
        // unset or blank: no board.
        assert_eq!(with(FLEX), None);
        assert_eq!(with(PARKING), None);
        assert_eq!(with(" "), None);
        let no_board = [("WORKSPACE_SID", WS), ("TWILIO_FLEX_SYNC_SID", FLEX)];
        assert_eq!(
            Services::from_env(lookup(&no_board), true).unwrap().board,
            None
        );
    }

    #[test]
    fn a_missing_or_contradicting_setting_is_refused_by_name() {
        let no_flex = [("WORKSPACE_SID", WS), ("SYNC_SERVICE_SID", PARKING)];
        let err = Services::from_env(lookup(&no_flex), true).unwrap_err();
        assert_eq!(err.variable, "TWILIO_FLEX_SYNC_SID");
        assert!(err.to_string().contains("TWILIO_FLEX_SYNC_SID is not set"));
        let no_workspace = [("TWILIO_FLEX_SYNC_SID", FLEX)];
        let err = Services::from_env(lookup(&no_workspace), true).unwrap_err();
        assert_eq!(err.variable, "WORKSPACE_SID");
        let clash = [
            ("WORKSPACE_SID", WS),
            (
                "TWILIO_FLEX_WORKSPACE_SID",
                "WSbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
            ),
            ("TWILIO_FLEX_SYNC_SID", FLEX),
        ];
        let err = Services::from_env(lookup(&clash), true).unwrap_err();
        assert_eq!(
            (err.variable, err.code()),
            ("WORKSPACE_SID", "invalid_config")
        );
        assert!(err
            .to_string()
            .contains("WORKSPACE_SID and TWILIO_FLEX_WORKSPACE_SID name the same setting"));
        assert!(!err.to_string().contains(WS), "no value in the message");
    }
}
