//! Voice messages: the microphone, recorded with `MediaRecorder` as Opus in
//! WebM where the browser can (Chrome, Edge, Firefox, Safari 18.4 and
//! later), else in its own format (AAC in MP4 on older Safari). The file goes
//! out through the ordinary upload.

use std::cell::RefCell;
use std::rc::Rc;

use futures::channel::oneshot;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// The formats asked for, best first.
const FORMATS: &[&str] = &["audio/webm;codecs=opus", "audio/webm", "audio/mp4"];

/// A recording under way: the microphone is on until it is finished or
/// dropped.
pub struct Recording {
    recorder: web_sys::MediaRecorder,
    stream: web_sys::MediaStream,
    chunks: Rc<RefCell<Vec<web_sys::Blob>>>,
    _on_data: Closure<dyn FnMut(web_sys::BlobEvent)>,
}

/// Turns the microphone on and starts recording. The browser asks the user
/// the first time.
pub async fn start() -> Result<Recording, String> {
    let navigator = web_sys::window()
        .ok_or("This browser cannot record.")?
        .navigator();
    let devices = navigator
        .media_devices()
        .map_err(|_| "This browser cannot record (it needs a secure connection).")?;
    let constraints = web_sys::MediaStreamConstraints::new();
    constraints.set_audio(&JsValue::TRUE);
    let asked = devices
        .get_user_media_with_constraints(&constraints)
        .map_err(|_| "This browser cannot record.")?;
    let stream: web_sys::MediaStream = JsFuture::from(asked)
        .await
        .map_err(|_| {
            "The microphone is not available: allow crm-chat to use it in the browser's site settings."
        })?
        .unchecked_into();
    let options = web_sys::MediaRecorderOptions::new();
    if let Some(format) = FORMATS
        .iter()
        .find(|f| web_sys::MediaRecorder::is_type_supported(f))
    {
        options.set_mime_type(format);
    }
    let recorder = match web_sys::MediaRecorder::new_with_media_stream_and_media_recorder_options(
        &stream, &options,
    ) {
        Ok(recorder) => recorder,
        Err(_) => {
            stop_tracks(&stream);
            return Err("This browser cannot record.".into());
        }
    };
    let chunks = Rc::new(RefCell::new(Vec::new()));
    let on_data = {
        let chunks = chunks.clone();
        Closure::<dyn FnMut(web_sys::BlobEvent)>::new(move |event: web_sys::BlobEvent| {
            if let Some(data) = event.data().filter(|d| d.size() > 0.0) {
                chunks.borrow_mut().push(data);
            }
        })
    };
    recorder.set_ondataavailable(Some(on_data.as_ref().unchecked_ref()));
    if recorder.start().is_err() {
        stop_tracks(&stream);
        return Err("The recording could not start.".into());
    }
    Ok(Recording {
        recorder,
        stream,
        chunks,
        _on_data: on_data,
    })
}

impl Recording {
    /// Stops and gives the recording as a file named `name` (an extension
    /// for its format is added).
    pub async fn finish(self, name: &str) -> Result<web_sys::File, String> {
        let (stopped, wait) = oneshot::channel::<()>();
        let mut stopped = Some(stopped);
        let on_stop = Closure::<dyn FnMut()>::new(move || {
            if let Some(stopped) = stopped.take() {
                let _ = stopped.send(());
            }
        });
        self.recorder
            .set_onstop(Some(on_stop.as_ref().unchecked_ref()));
        // A recorder that stopped by itself (the microphone went away) has
        // given its data already, and will not say `stop` again.
        if self.recorder.state() != web_sys::RecordingState::Inactive
            && self.recorder.stop().is_ok()
        {
            // The last data comes before `stop`.
            let _ = wait.await;
        }
        self.recorder.set_onstop(None);
        drop(on_stop);
        stop_tracks(&self.stream);

        let format = self.recorder.mime_type();
        let format = format.split(';').next().unwrap_or_default().to_owned();
        let parts = js_sys::Array::new();
        for chunk in self.chunks.borrow().iter() {
            parts.push(chunk);
        }
        if parts.length() == 0 {
            return Err("Nothing was recorded.".into());
        }
        let extension = if format.contains("mp4") {
            "m4a"
        } else {
            "webm"
        };
        let bag = web_sys::FilePropertyBag::new();
        bag.set_type(&format);
        web_sys::File::new_with_blob_sequence_and_options(
            &parts,
            &format!("{name}.{extension}"),
            &bag,
        )
        .map_err(|_| "The recording could not be saved.".to_owned())
    }
}

impl Drop for Recording {
    /// A recording dropped unfinished (cancelled, or the conversation
    /// closed) turns the microphone off.
    fn drop(&mut self) {
        self.recorder.set_ondataavailable(None);
        if self.recorder.state() != web_sys::RecordingState::Inactive {
            let _ = self.recorder.stop();
        }
        stop_tracks(&self.stream);
    }
}

fn stop_tracks(stream: &web_sys::MediaStream) {
    for track in stream.get_tracks().iter() {
        if let Ok(track) = track.dyn_into::<web_sys::MediaStreamTrack>() {
            track.stop();
        }
    }
}
