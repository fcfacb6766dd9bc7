//! Uploads with a progress bar: `fetch` cannot report upload progress, so
//! this uses XMLHttpRequest against the REST endpoint (same origin, with the
//! session cookie).

use futures::channel::oneshot;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use crate::api::AppError;
use crate::protocol::{Attachment, ConversationId};

/// Uploads a file to a conversation, reporting progress in percent.
pub async fn upload(
    conversation_id: ConversationId,
    file: web_sys::File,
    on_progress: impl Fn(u8) + 'static,
) -> Result<Attachment, String> {
    let form = web_sys::FormData::new().map_err(|_| "The browser cannot upload files.")?;
    form.append_with_str("conversationId", &conversation_id.to_string())
        .map_err(|_| "The upload could not be prepared.")?;
    form.append_with_blob_and_filename("file", &file, &file.name())
        .map_err(|_| "The upload could not be prepared.")?;
    let request = web_sys::XmlHttpRequest::new().map_err(|_| "The browser cannot upload files.")?;
    request
        .open("POST", "/api/chat/uploads")
        .map_err(|_| "The upload could not start.")?;

    let progress =
        Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(move |event: web_sys::ProgressEvent| {
            if event.length_computable() && event.total() > 0.0 {
                let percent = (100.0 * event.loaded() / event.total()).clamp(0.0, 100.0);
                on_progress(percent as u8);
            }
        });
    if let Ok(upload) = request.upload() {
        upload.set_onprogress(Some(progress.as_ref().unchecked_ref()));
    }
    let (done_tx, done_rx) = oneshot::channel::<()>();
    let mut done_tx = Some(done_tx);
    let finished = Closure::<dyn FnMut()>::new(move || {
        if let Some(tx) = done_tx.take() {
            let _ = tx.send(());
        }
    });
    request.set_onloadend(Some(finished.as_ref().unchecked_ref()));
    request
        .send_with_opt_form_data(Some(&form))
        .map_err(|_| "The upload could not start.")?;
    let _ = done_rx.await;
    drop((progress, finished));

    let status = request.status().unwrap_or(0);
    let body = request.response_text().ok().flatten().unwrap_or_default();
    if (200..300).contains(&status) {
        serde_json::from_slice(body.as_bytes())
            .map_err(|_| "The server's answer was not understood.".to_owned())
    } else if status == 0 {
        Err("The upload failed: check your connection.".to_owned())
    } else {
        Err(serde_json::from_slice::<AppError>(body.as_bytes())
            .map(|e| e.message)
            .unwrap_or_else(|_| format!("The upload failed ({status}).")))
    }
}
