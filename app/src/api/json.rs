//! The codec of the resources the server renders and the browser hydrates.
//!
//! Leptos's default resource codec decodes with `serde_json::from_str`, while
//! server functions decode their answers with `serde_json::from_slice`. Those
//! are two instantiations of every type's decoder, and a resource fed by a
//! server function (the chat's bootstrap, an opened thread) needs both in the
//! WASM. [`Json`] decodes with `from_slice` too, so there is one of each.

use leptos::prelude::Resource;
use leptos::server::codee::{Decoder, Encoder};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// JSON, decoded from bytes like server functions' answers. Make resources
/// with it through [`resource`] and [`blocking_resource`].
pub struct Json;

/// Leptos's `Resource::new`, in [`Json`].
pub fn resource<T, S, Fut>(
    source: impl Fn() -> S + Send + Sync + 'static,
    fetcher: impl Fn(S) -> Fut + Send + Sync + 'static,
) -> Resource<T, Json>
where
    T: Serialize + DeserializeOwned + Send + Sync + 'static,
    S: PartialEq + Clone + Send + Sync + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    Resource::new_with_options(source, fetcher, false)
}

/// Leptos's `Resource::new_blocking`, in [`Json`]: the server waits for it
/// before it sends the page.
pub fn blocking_resource<T, S, Fut>(
    source: impl Fn() -> S + Send + Sync + 'static,
    fetcher: impl Fn(S) -> Fut + Send + Sync + 'static,
) -> Resource<T, Json>
where
    T: Serialize + DeserializeOwned + Send + Sync + 'static,
    S: PartialEq + Clone + Send + Sync + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    Resource::new_with_options(source, fetcher, true)
}

impl<T: Serialize> Encoder<T> for Json {
    type Error = serde_json::Error;
    type Encoded = String;

    fn encode(value: &T) -> Result<String, serde_json::Error> {
        serde_json::to_string(value)
    }
}

impl<T: DeserializeOwned> Decoder<T> for Json {
    type Error = serde_json::Error;
    type Encoded = str;

    fn decode(encoded: &str) -> Result<T, serde_json::Error> {
        serde_json::from_slice(encoded.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_survives_the_round_trip_through_json_text() {
        let value = vec![(1_i64, "Zoë \"quoted\"".to_owned())];
        let text = <Json as Encoder<_>>::encode(&value).unwrap();
        let back: Vec<(i64, String)> = <Json as Decoder<_>>::decode(&text).unwrap();
        assert_eq!(back, value);
    }
}
