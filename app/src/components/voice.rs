//! Voice messages, as in WhatsApp: the microphone button stands where Send
//! does while the box is empty. A tap records; the bar that replaces the box
//! shows the time, and sends the recording or throws it away. It goes out as
//! an audio attachment, which the thread plays inline.

use leptos::prelude::*;

use super::icon::{Icon, Svg};

/// A recording this long is sent as it is.
#[cfg(feature = "hydrate")]
const MAX_SECONDS: i64 = 15 * 60;

/// "1:07": minutes and seconds.
pub fn clock(seconds: i64) -> String {
    let seconds = seconds.max(0);
    format!("{}:{:02}", seconds / 60, seconds % 60)
}

/// The microphone button, or while recording, the bar. `recording` says
/// which (the composer hides its box meanwhile); `send` takes the finished
/// file.
#[component]
pub fn VoiceRecorder(
    recording: RwSignal<bool>,
    error: RwSignal<Option<String>>,
    send: Callback<super::composer::FileHandle>,
) -> impl IntoView {
    #[cfg(not(feature = "hydrate"))]
    let _ = send;
    // Seconds since the recording started, counted in the browser.
    let elapsed = RwSignal::new(0_i64);
    #[cfg(feature = "hydrate")]
    let under_way = StoredValue::new_local(None::<crate::client::recorder::Recording>);
    #[cfg(feature = "hydrate")]
    on_cleanup(move || {
        // The microphone goes off with the composer (another conversation).
        under_way.try_update_value(Option::take);
    });

    // Escape throws the recording away, as the bin button does.
    #[cfg(feature = "hydrate")]
    crate::client::dom::close_on_escape(move || {
        if recording.get_untracked() {
            under_way.try_update_value(Option::take);
            recording.set(false);
            refocus();
        }
    });

    let start = move |_| {
        error.set(None);
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            match crate::client::recorder::start().await {
                Ok(started) => {
                    if under_way.try_set_value(Some(started)).is_some() {
                        return;
                    }
                    elapsed.try_set(0);
                    recording.try_set(true);
                    tick(elapsed, recording, under_way, send, error);
                    // Enter sends it, Escape throws it away.
                    crate::client::dom::focus_when_shown("voice-send").await;
                }
                Err(message) => {
                    error.try_set(Some(message));
                }
            }
        });
    };
    let cancel = move |_| {
        #[cfg(feature = "hydrate")]
        under_way.try_update_value(Option::take);
        recording.set(false);
        refocus();
    };
    let send_now = move |_| {
        #[cfg(feature = "hydrate")]
        finish(under_way, send, error);
        recording.set(false);
        refocus();
    };

    view! {
        <Show
            when=move || recording.get()
            fallback=move || view! {
                <button type="button" class="icon-button voice-start" aria-label="Record a voice message"
                    title="Record a voice message" on:click=start>
                    <Svg icon=Icon::Mic />
                </button>
            }
        >
            <div class="voice" role="group" aria-label="Voice message">
                <button type="button" class="icon-button" aria-label="Cancel recording" title="Cancel recording"
                    on:click=cancel>
                    <Svg icon=Icon::Trash size=20 />
                </button>
                <span class="voice-dot" aria-hidden="true"></span>
                <span class="voice-time" role="timer" aria-label="Recording time">
                    {move || clock(elapsed.get())}
                </span>
                <button type="button" id="voice-send" class="primary send" aria-label="Send voice message" on:click=send_now>
                    "Send"
                </button>
            </div>
        </Show>
    }
}

/// Back to the box once the bar has gone; not on a phone, where that
/// would bring up the keyboard.
fn refocus() {
    #[cfg(feature = "hydrate")]
    if !crate::client::dom::one_pane() {
        leptos::task::spawn_local(crate::client::dom::focus_when_shown("composer-input"));
    }
}

/// Counts the seconds while the recording lasts, and sends it at the
/// longest.
#[cfg(feature = "hydrate")]
fn tick(
    elapsed: RwSignal<i64>,
    recording: RwSignal<bool>,
    under_way: StoredValue<Option<crate::client::recorder::Recording>, LocalStorage>,
    send: Callback<super::composer::FileHandle>,
    error: RwSignal<Option<String>>,
) {
    let started = crate::now_ms();
    leptos::task::spawn_local(async move {
        while recording.try_get_untracked() == Some(true) {
            crate::client::sleep(250).await;
            let seconds = (crate::now_ms() - started) / 1000;
            elapsed.try_set(seconds);
            if seconds >= MAX_SECONDS && recording.try_get_untracked() == Some(true) {
                finish(under_way, send, error);
                recording.try_set(false);
            }
        }
    });
}

/// Stops the recording under way and sends it.
#[cfg(feature = "hydrate")]
fn finish(
    under_way: StoredValue<Option<crate::client::recorder::Recording>, LocalStorage>,
    send: Callback<super::composer::FileHandle>,
    error: RwSignal<Option<String>>,
) {
    let Some(recording) = under_way.try_update_value(Option::take).flatten() else {
        return;
    };
    leptos::task::spawn_local(async move {
        match recording.finish(crate::model::VOICE_MESSAGE_NAME).await {
            Ok(file) => send.run(file),
            Err(message) => {
                error.try_set(Some(message));
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recording_s_time_reads_in_minutes_and_seconds() {
        assert_eq!(clock(0), "0:00");
        assert_eq!(clock(7), "0:07");
        assert_eq!(clock(67), "1:07");
        assert_eq!(clock(900), "15:00");
    }
}
