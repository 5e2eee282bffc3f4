//! Matching requests to dialogs (RFC 3261 §12.2.2).

use std::collections::HashMap;

use sip_core::Message;
use sip_core::header::{CallId, HeaderName};

use crate::{Dialog, DialogId};

/// What an incoming request is, dialog-wise.
#[derive(Debug, PartialEq, Eq)]
pub enum Match {
    /// Outside any dialog (no To tag): a new request.
    OutOfDialog,
    /// In a dialog we hold.
    Dialog(DialogId),
    /// Has a To tag but matches no dialog: answer 481 (§12.2.2), except an
    /// ACK, which is dropped.
    Unknown,
}

/// The dialogs of one endpoint.
#[derive(Debug, Default)]
pub struct Dialogs {
    by_id: HashMap<DialogId, Dialog>,
}

impl Dialogs {
    /// No dialogs.
    pub fn new() -> Dialogs {
        Dialogs::default()
    }

    /// Adds (or replaces) a dialog.
    pub fn insert(&mut self, dialog: Dialog) -> DialogId {
        let id = dialog.id().clone();
        self.by_id.insert(id.clone(), dialog);
        id
    }

    /// A dialog by id.
    pub fn get_mut(&mut self, id: &DialogId) -> Option<&mut Dialog> {
        self.by_id.get_mut(id)
    }

    /// Removes a dialog.
    pub fn remove(&mut self, id: &DialogId) -> Option<Dialog> {
        self.by_id.remove(id)
    }

    /// Number of dialogs.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Which dialog an incoming request belongs to: Call-ID, our tag from
    /// To, the peer's tag from From (§12.2.2).
    pub fn classify(&self, request: &Message) -> Match {
        match classify(request) {
            Match::Dialog(id) if !self.by_id.contains_key(&id) => Match::Unknown,
            other => other,
        }
    }
}

/// The dialog id an incoming request names (as [`Match::Dialog`]), or
/// [`Match::OutOfDialog`] when it has no To tag.
pub(crate) fn classify(request: &Message) -> Match {
    let Some(local_tag) = request.tag(HeaderName::To).map(str::to_owned) else {
        return Match::OutOfDialog;
    };
    let remote_tag = request
        .tag(HeaderName::From)
        .map(str::to_owned)
        .unwrap_or_default();
    let call_id = request
        .header::<CallId<'_>>()
        .and_then(Result::ok)
        .map(|c| c.0.to_owned())
        .unwrap_or_default();
    Match::Dialog(DialogId {
        call_id,
        local_tag,
        remote_tag,
    })
}
