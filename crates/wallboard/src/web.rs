//! The browser face (wasm-bindgen `--target web`, loaded by `assets/wallboard/wallboard.js`).
//!
//! ```js
//! const wb = new Wallboard(configJsonText);   // throws an Error naming a bad config field
//! wb.board(records, {channel: 'voice' | null, queues: ['Sales', 'WQ…']}, Date.now(), connected)
//!   // -> {tiles: [...], summary: {...}}  (see the crate docs)
//! wb.kiosk()   // {columns, rows, pageSeconds, cycleSeconds, order, normalOrder, staffingRefreshSeconds}
//! wb.staffingRequests(records, view, Date.now(), ['WQ…'] | null)
//!   // -> [{queues: [...]}]: the `/staffing` batches for the tiles (only those SIDs when given)
//!
//! // The page's records kept here, and only what changed handed back (crate::Store):
//! wb.set(record); wb.remove(sid); wb.redraw();
//! wb.delta(view, Date.now(), connected)   // {order: [sids] | null, changed: [tiles], summary}
//! wb.storedStaffingRequests(view, Date.now(), ['WQ…'] | null)
//! ```
//!
//! A view is `{channel, queues, order: 'name' | 'alerts'}` (an unknown order reads as `name`).

use serde::Deserialize;
use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_face::to_js;

#[derive(Deserialize, Default)]
struct ViewIn {
    #[serde(default)]
    channel: Option<String>,
    #[serde(default)]
    queues: Vec<String>,
    #[serde(default)]
    order: Option<String>,
}

impl ViewIn {
    fn read(view: JsValue) -> crate::View {
        let view: ViewIn = serde_wasm_bindgen::from_value(view).unwrap_or_default();
        crate::View {
            channel: view.channel.filter(|c| !c.is_empty()),
            queues: view.queues,
            order: view
                .order
                .as_deref()
                .and_then(crate::Order::parse)
                .unwrap_or_default(),
        }
    }
}

#[wasm_bindgen]
pub struct Wallboard {
    config: crate::Config,
    store: crate::Store,
}

#[wasm_bindgen]
impl Wallboard {
    #[wasm_bindgen(constructor)]
    pub fn new(config_json: &str) -> Result<Wallboard, JsValue> {
        crate::Config::parse(config_json)
            .map(|config| Wallboard {
                config,
                store: crate::Store::new(),
            })
            .map_err(|e| JsValue::from(js_sys::Error::new(&e.to_string())))
    }

    pub fn board(
        &self,
        records: JsValue,
        view: JsValue,
        now_ms: f64,
        connected: bool,
    ) -> Result<JsValue, JsValue> {
        let records: Vec<Value> = serde_wasm_bindgen::from_value(records).unwrap_or_default();
        let view = ViewIn::read(view);
        to_js(&crate::board(
            &records,
            &self.config,
            &view,
            now_ms,
            connected,
        ))
    }

    #[wasm_bindgen(js_name = staffingRequests)]
    pub fn staffing_requests(
        &self,
        records: JsValue,
        view: JsValue,
        now_ms: f64,
        only: JsValue,
    ) -> Result<JsValue, JsValue> {
        let records: Vec<Value> = serde_wasm_bindgen::from_value(records).unwrap_or_default();
        let view = ViewIn::read(view);
        let only: Option<Vec<String>> = serde_wasm_bindgen::from_value(only).unwrap_or_default();
        let board = crate::board(&records, &self.config, &view, now_ms, true);
        to_js(&crate::staffing_requests(&board.tiles, only.as_deref()))
    }

    pub fn kiosk(&self) -> Result<JsValue, JsValue> {
        let k = self.config.kiosk;
        to_js(&serde_json::json!({
            "columns": k.columns, "rows": k.rows, "pageSeconds": k.page_seconds,
            "cycleSeconds": k.cycle_seconds, "order": k.order, "normalOrder": self.config.order,
            "staffingRefreshSeconds": self.config.staffing_refresh_seconds,
        }))
    }

    /// Keeps a record (answers false for one without a SID).
    pub fn set(&mut self, record: JsValue) -> bool {
        serde_wasm_bindgen::from_value::<Value>(record)
            .map(|r| self.store.set(r))
            .unwrap_or(false)
    }

    pub fn remove(&mut self, sid: &str) {
        self.store.remove(sid);
    }

    pub fn redraw(&mut self) {
        self.store.redraw();
    }

    pub fn delta(
        &mut self,
        view: JsValue,
        now_ms: f64,
        connected: bool,
    ) -> Result<JsValue, JsValue> {
        let view = ViewIn::read(view);
        to_js(&self.store.delta(&self.config, &view, now_ms, connected))
    }

    #[wasm_bindgen(js_name = storedStaffingRequests)]
    pub fn stored_staffing_requests(
        &self,
        view: JsValue,
        now_ms: f64,
        only: JsValue,
    ) -> Result<JsValue, JsValue> {
        let view = ViewIn::read(view);
        let only: Option<Vec<String>> = serde_wasm_bindgen::from_value(only).unwrap_or_default();
        let board = crate::board_of(self.store.records(), &self.config, &view, now_ms, true);
        to_js(&crate::staffing_requests(&board.tiles, only.as_deref()))
    }
}
