//! The router state: what every handler and server function can reach.

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use crate::backend::Backend;

#[derive(Clone)]
pub struct AppState {
    pub backend: Backend,
    pub leptos_options: LeptosOptions,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

impl FromRef<AppState> for Backend {
    fn from_ref(state: &AppState) -> Self {
        state.backend.clone()
    }
}
