//! Small DOM helpers for scrolling, focus and the clipboard.

use wasm_bindgen::JsCast;

/// Whether the page shows the list or a thread, not both, as on a phone
/// (style/main.css switches at 768 px).
pub fn one_pane() -> bool {
    web_sys::window()
        .and_then(|w| w.inner_width().ok())
        .and_then(|width| width.as_f64())
        .is_some_and(|width| width < 768.0)
}

pub fn element_by_id(id: &str) -> Option<web_sys::HtmlElement> {
    web_sys::window()?
        .document()?
        .get_element_by_id(id)?
        .dyn_into()
        .ok()
}

/// The element with the focus; none when the focus is on the page's body
/// (where it goes when its element is taken out of the page).
pub fn focused() -> Option<web_sys::Element> {
    let document = web_sys::window()?.document()?;
    let body: Option<web_sys::Element> = document.body().map(Into::into);
    document
        .active_element()
        .filter(|a| body.as_ref() != Some(a))
}

/// Whether a modal dialog is open (the emoji picker, a form): page-wide
/// shortcuts leave it alone.
pub fn modal_open() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.query_selector("[aria-modal='true']").ok().flatten())
        .is_some()
}

/// Moves focus to the element once it can take it. An element whose
/// container has not been shown yet (a drawer whose class change has not
/// rendered on a busy phone) refuses focus, so this tries again every 20 ms
/// for up to half a second, and stops as soon as the focus is there. It
/// also stops if the focus went somewhere else meanwhile: someone quick
/// has already typed in the dialog or picked in it, and keeps their place.
pub async fn focus_when_shown(id: &str) {
    let before = focused();
    for _ in 0..25 {
        super::sleep(20).await;
        let now = focused();
        if now.is_some() && now != before {
            return;
        }
        let Some(element) = element_by_id(id) else {
            continue;
        };
        let _ = element.focus();
        if focused().is_some_and(|f| f == *element) {
            return;
        }
    }
}

/// Calls `close` on every Escape for as long as the calling component
/// lives, wherever the focus is: a click on a dialog's text, or a button
/// that just became disabled, leaves it on the page's body, where the
/// dialog's own `keydown` never sees it.
pub fn close_on_escape(close: impl Fn() + 'static) {
    use leptos::prelude::{on_cleanup, window_event_listener};
    let escape = window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.key() == "Escape" {
            close();
        }
    });
    on_cleanup(move || escape.remove());
}

/// Scrolls the element into the middle of its scroller.
pub fn scroll_into_view(element: &web_sys::Element) {
    let options = web_sys::ScrollIntoViewOptions::new();
    options.set_block(web_sys::ScrollLogicalPosition::Center);
    element.scroll_into_view_with_scroll_into_view_options(&options);
}

/// How far the scroller is from its bottom, in pixels.
pub fn distance_from_bottom(scroller: &web_sys::HtmlElement) -> i32 {
    scroller.scroll_height() - scroller.scroll_top() - scroller.client_height()
}

pub fn scroll_to_bottom(scroller: &web_sys::HtmlElement) {
    scroller.set_scroll_top(scroller.scroll_height());
}

/// The highest `data-seq` among the messages whose bottom edge is inside
/// the scroller's visible area: what the user has actually seen.
pub fn last_visible_seq(scroller: &web_sys::HtmlElement) -> Option<i64> {
    let view = scroller.get_bounding_client_rect();
    let rows = scroller.query_selector_all("[data-seq]").ok()?;
    let mut index = rows.length();
    while index > 0 {
        index -= 1;
        let Some(row) = rows
            .item(index)
            .and_then(|n| n.dyn_into::<web_sys::Element>().ok())
        else {
            continue;
        };
        let rect = row.get_bounding_client_rect();
        if rect.bottom() <= view.bottom() + 2.0 && rect.bottom() >= view.top() {
            return row.get_attribute("data-seq")?.parse().ok();
        }
        if rect.bottom() < view.top() {
            return None;
        }
    }
    None
}

/// Puts text on the clipboard. Browsers offer it to secure pages only
/// (https, or this machine).
pub async fn copy_text(text: &str) -> Result<(), String> {
    let window = web_sys::window().ok_or("There is no window to copy from.")?;
    if !window.is_secure_context() {
        return Err("Copying needs crm-chat to be served over https.".to_owned());
    }
    let written = window.navigator().clipboard().write_text(text);
    wasm_bindgen_futures::JsFuture::from(written)
        .await
        .map(drop)
        .map_err(|_| "The browser did not allow copying.".to_owned())
}

/// Puts `value` in a text box as if it were typed, so that the browser's
/// Undo (Ctrl+Z) takes the change back: the text is selected and replaced
/// with the `insertText` command, which fires the box's `input` event as
/// typing does. A browser without the command gets the value set directly
/// (Undo then does not see it) and no `input` event; this says which
/// happened, so that the caller can do what its input handler would.
pub fn type_text(input: &web_sys::HtmlTextAreaElement, value: &str) -> bool {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.dyn_into::<web_sys::HtmlDocument>().ok());
    let _ = input.focus();
    input.select();
    let typed = document.is_some_and(|d| {
        d.exec_command_with_show_ui_and_value("insertText", false, value)
            .unwrap_or(false)
    });
    // `insertText` with an empty string deletes nothing in some browsers.
    if !typed || input.value() != value {
        input.set_value(value);
        return false;
    }
    true
}
