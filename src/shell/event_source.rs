//! The SSE transport on the browser's `EventSource`, one per connection attempt.
//!
//! `EventSource` delivers a named event only to listeners registered for that name, so the
//! names to hear are given when it opens and added later with [`EsTransport::listen`]; one
//! closure serves them all. Its own reconnection is never used: on `error` the front door drops
//! the transport (which closes it) and reconnects with its own backoff.

use wasm_bindgen::prelude::*;
use web_sys::{Event, EventSource, EventSourceInit, MessageEvent};

/// What the transport reports.
pub(crate) enum EsSignal {
    /// The response arrived: `200 text/event-stream`.
    Open,
    /// An event of a name listened to (its name, data and last event id are the
    /// `MessageEvent`'s `type`, `data` and `lastEventId`). A server's event named `error`
    /// arrives here too, not as a failure.
    Event(MessageEvent),
    /// The stream failed to open, or dropped, or ended.
    Error,
}

/// An `EventSource` and its listeners. Dropping it removes them and closes the source.
#[must_use = "dropping an EsTransport closes the EventSource"]
pub(crate) struct EsTransport {
    es: EventSource,
    _on_open: Closure<dyn FnMut()>,
    on_event: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(Event)>,
    names: Vec<String>,
}

impl EsTransport {
    /// Opens an `EventSource` on `url`, listening to the events `names`; every signal goes to
    /// `on_signal`.
    pub fn open<'a>(
        url: &str,
        with_credentials: bool,
        names: impl IntoIterator<Item = &'a str>,
        on_signal: impl Fn(EsSignal) + Clone + 'static,
    ) -> Result<Self, JsValue> {
        let init = EventSourceInit::new();
        init.set_with_credentials(with_credentials);
        let es = EventSource::new_with_event_source_init_dict(url, &init)?;
        let f = on_signal.clone();
        let on_open = Closure::<dyn FnMut()>::new(move || f(EsSignal::Open));
        let f = on_signal.clone();
        let on_event =
            Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| f(EsSignal::Event(e)));
        let f = on_signal;
        let on_error = Closure::<dyn FnMut(Event)>::new(move |e: Event| {
            f(match e.dyn_into::<MessageEvent>() {
                Ok(e) => EsSignal::Event(e),
                Err(_) => EsSignal::Error,
            })
        });
        es.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        es.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        let mut transport = EsTransport {
            es,
            _on_open: on_open,
            on_event,
            _on_error: on_error,
            names: Vec::new(),
        };
        for name in names {
            transport.listen(name);
        }
        Ok(transport)
    }

    /// Hears the events named `name` too (nothing if it already does).
    pub fn listen(&mut self, name: &str) {
        if self.names.iter().any(|n| n == name) {
            return;
        }
        if self
            .es
            .add_event_listener_with_callback(name, self.on_event.as_ref().unchecked_ref())
            .is_ok()
        {
            self.names.push(name.to_string());
        }
    }

    /// The URL it reads.
    pub fn url(&self) -> String {
        self.es.url()
    }

    /// Whether the `EventSource` gave up (`CLOSED`): after an error answer, it does not retry.
    pub fn gave_up(&self) -> bool {
        self.es.ready_state() == EventSource::CLOSED
    }

    /// Stops hearing the events named `name`.
    #[cfg(feature = "rust-api")]
    pub fn unlisten(&mut self, name: &str) {
        if let Some(at) = self.names.iter().position(|n| n == name) {
            self.names.remove(at);
            let _ = self
                .es
                .remove_event_listener_with_callback(name, self.on_event.as_ref().unchecked_ref());
        }
    }
}

impl Drop for EsTransport {
    fn drop(&mut self) {
        self.es.set_onopen(None);
        self.es.set_onerror(None);
        for name in &self.names {
            let _ = self
                .es
                .remove_event_listener_with_callback(name, self.on_event.as_ref().unchecked_ref());
        }
        self.es.close();
    }
}
