//! Uploads: streamed to disk while hashed and counted, refused the moment they
//! pass the size limit, typed by their bytes (never by their name), and stored
//! under their sha256. Only members of the conversation download them.

use std::path::PathBuf;

use anyhow::Context;
use bytes::Bytes;
use futures::{Stream, StreamExt};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use super::files::BlobReader;
use super::views::attachment_url;
use crate::backend::db::attachments::{self, AttachmentRow, NewAttachment};
use crate::backend::{Backend, Error, Result, now_ms};
use crate::protocol::{Attachment, AttachmentId, ConversationId, Me};

/// Bytes kept in memory for sniffing the type and reading image dimensions.
const HEAD_BYTES: usize = 64 * 1024;
const MAX_FILE_NAME_CHARS: usize = 180;

/// What a stored attachment is, for serving it safely.
pub struct Download {
    pub attachment: AttachmentRow,
    pub body: BlobReader,
    /// Images the browser may show inline; everything else is a download.
    pub inline: bool,
}

/// The content types accepted, as sniffed from the bytes.
const ALLOWED: &[&str] = &[
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "audio/mpeg",
    "audio/mp4",
    "audio/ogg",
    "audio/webm",
    "video/mp4",
];

/// Whether a WebM file's tracks, in its head, are audio alone: an audio
/// codec is named and no video codec is.
fn webm_is_audio_only(head: &[u8]) -> bool {
    let names = |codecs: &[&[u8]]| {
        codecs
            .iter()
            .any(|codec| head.windows(codec.len()).any(|w| w == *codec))
    };
    names(&[b"A_OPUS", b"A_VORBIS"]) && !names(&[b"V_VP8", b"V_VP9", b"V_AV1", b"V_MPEG"])
}

/// Whether an MP4 file's tracks, in its head, are audio alone: every track
/// handler (`hdlr`) is for sound.
fn mp4_is_audio_only(head: &[u8]) -> bool {
    // A handler box: "hdlr", version and flags, pre_defined, then the type.
    let handlers: Vec<&[u8]> = head
        .windows(16)
        .filter(|w| &w[..4] == b"hdlr")
        .map(|w| &w[12..16])
        .filter(|kind| matches!(*kind, b"soun" | b"vide"))
        .collect();
    !handlers.is_empty() && handlers.iter().all(|kind| *kind == b"soun")
}

/// Images that are safe to show inline (no SVG: it can carry script).
pub fn is_inline_image(content_type: &str) -> bool {
    matches!(
        content_type,
        "image/png" | "image/jpeg" | "image/gif" | "image/webp"
    )
}

/// The last path component of a client's file name, without control
/// characters or bidirectional tricks, at most 180 characters.
pub fn sanitize_file_name(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .filter(|c| {
            !c.is_control() && !matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
        })
        .take(MAX_FILE_NAME_CHARS)
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim();
    if cleaned.is_empty() {
        "file".to_owned()
    } else {
        cleaned.to_owned()
    }
}

/// The type of a file from its first bytes. Text has no magic number: it is
/// accepted as plain text only when named `.txt`, `.csv`, `.md` or `.log`
/// and it is UTF-8 without NUL bytes.
pub fn sniff(head: &[u8], file_name: &str) -> Option<&'static str> {
    if let Some(kind) = infer::get(head) {
        let sniffed = match kind.mime_type() {
            // A voice message as browsers record it: Opus in WebM (Chrome,
            // Firefox, Safari 18.4+) or AAC in MP4 (older Safari). The
            // containers hold video too, which is not accepted.
            "video/webm" | "video/x-matroska" if webm_is_audio_only(head) => "audio/webm",
            "video/mp4" | "audio/m4a" if mp4_is_audio_only(head) => "audio/mp4",
            other => other,
        };
        return ALLOWED.iter().copied().find(|allowed| *allowed == sniffed);
    }
    let extension = file_name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let text = match std::str::from_utf8(head) {
        Ok(text) => text,
        // The head may end inside a multi-byte character.
        Err(error) if error.error_len().is_none() => {
            std::str::from_utf8(&head[..error.valid_up_to()]).ok()?
        }
        Err(_) => return None,
    };
    if text.contains('\0') {
        return None;
    }
    match extension.as_str() {
        "txt" | "md" | "log" => Some("text/plain"),
        "csv" => Some("text/csv"),
        _ => None,
    }
}

impl Backend {
    /// Streams an upload for a conversation the caller is in. Refuses it as
    /// soon as it passes `max_bytes`, without reading the rest.
    pub async fn upload_attachment<S>(
        &self,
        me: &Me,
        conversation_id: ConversationId,
        file_name: &str,
        mut body: S,
        max_bytes: u64,
    ) -> Result<Attachment>
    where
        S: Stream<Item = std::io::Result<Bytes>> + Unpin,
    {
        {
            let mut conn = self.db.pool().acquire().await?;
            self.require_member(&mut conn, me, conversation_id).await?;
        }
        let file_name = sanitize_file_name(file_name);
        let incoming = self.config.data_dir.join("uploads").join("incoming");
        tokio::fs::create_dir_all(&incoming)
            .await
            .context("Failed to create the upload directory")?;
        let temp = TempFile(incoming.join(uuid::Uuid::new_v4().simple().to_string()));
        let mut file = tokio::fs::File::create(&temp.0)
            .await
            .context("Failed to create an upload file")?;

        let mut hasher = Sha256::new();
        let mut head = Vec::with_capacity(HEAD_BYTES);
        let mut size: u64 = 0;
        while let Some(chunk) = body.next().await {
            let chunk = chunk
                .map_err(|e| Error::InvalidInput(format!("The upload was interrupted: {e}")))?;
            size += chunk.len() as u64;
            if size > max_bytes {
                return Err(Error::PayloadTooLarge { max_bytes });
            }
            if head.len() < HEAD_BYTES {
                let take = (HEAD_BYTES - head.len()).min(chunk.len());
                head.extend_from_slice(&chunk[..take]);
            }
            hasher.update(&chunk);
            file.write_all(&chunk)
                .await
                .context("Failed to write an upload")?;
        }
        file.flush().await.context("Failed to write an upload")?;
        file.sync_all().await.context("Failed to write an upload")?;
        drop(file);
        if size == 0 {
            return Err(Error::InvalidInput("The file is empty.".into()));
        }

        let content_type = sniff(&head, &file_name).ok_or(Error::UnsupportedMediaType)?;
        let (width, height) = match imagesize::blob_size(&head) {
            Ok(dims) if content_type.starts_with("image/") => {
                (Some(dims.width as i64), Some(dims.height as i64))
            }
            _ => (None, None),
        };
        let sha256 = format!("{:x}", hasher.finalize());
        self.blobs.put_file(&sha256, &temp.0).await?;

        let mut conn = self.db.pool().acquire().await?;
        let new = NewAttachment {
            org_id: me.org_id,
            conversation_id,
            uploader_id: me.id,
            sha256: &sha256,
            content_type,
            file_name: &file_name,
            size_bytes: size as i64,
            width,
            height,
        };
        let id = attachments::insert(&mut conn, new, now_ms()).await?;
        Ok(Attachment {
            id,
            file_name,
            content_type: content_type.to_owned(),
            size_bytes: size as i64,
            width,
            height,
            url: attachment_url(id),
        })
    }

    /// An attachment for a member of its conversation; anyone else gets `NotFound`.
    pub async fn download_attachment(&self, me: &Me, id: AttachmentId) -> Result<Download> {
        let mut conn = self.db.pool().acquire().await?;
        let attachment = attachments::get_for_download(&mut conn, id, me.org_id, me.id)
            .await?
            .ok_or(Error::NotFound)?;
        drop(conn);
        let body = self.blobs.open(&attachment.sha256).await?;
        let inline = is_inline_image(&attachment.content_type);
        Ok(Download {
            attachment,
            body,
            inline,
        })
    }
}

/// Removes a partial upload unless it was moved into the store.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG_1X1: &[u8] = &[
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0,
        0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1F, 0x15, 0xC4, 0x89,
    ];

    #[test]
    fn a_path_in_a_file_name_is_dropped() {
        assert_eq!(sanitize_file_name("../../etc/passwd"), "passwd");
        assert_eq!(sanitize_file_name("C:\\Users\\x\\report.pdf"), "report.pdf");
        assert_eq!(sanitize_file_name("..\u{0}"), "file");
        assert_eq!(sanitize_file_name(".bashrc"), "bashrc");
        assert_eq!(sanitize_file_name("inv\u{202E}fdp.exe"), "invfdp.exe");
    }

    #[test]
    fn the_type_comes_from_the_bytes_not_the_name() {
        assert_eq!(sniff(PNG_1X1, "photo.png"), Some("image/png"));
        assert_eq!(
            sniff(b"%PDF-1.7\n...", "notes.txt"),
            Some("application/pdf")
        );
        assert_eq!(
            sniff(b"<html><script>alert(1)</script></html>", "cat.png"),
            None
        );
        assert_eq!(
            sniff(b"MZ\x90\x00\x03\x00\x00\x00\x04\x00", "setup.pdf"),
            None
        );
    }

    #[test]
    fn plain_text_needs_a_text_name_and_text_bytes() {
        assert_eq!(
            sniff(b"name,amount\nacme,12\n", "leads.csv"),
            Some("text/csv")
        );
        assert_eq!(sniff(b"hello", "notes.txt"), Some("text/plain"));
        assert_eq!(sniff(b"hello", "notes.html"), None);
        assert_eq!(sniff(b"he\0llo", "notes.txt"), None);
    }

    /// The start of a WebM file with one track of this codec, as
    /// MediaRecorder writes it.
    fn webm(codec: &[u8]) -> Vec<u8> {
        let mut bytes = vec![0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x82, 0x84];
        bytes.extend_from_slice(b"webm");
        bytes.extend_from_slice(&[0x16, 0x54, 0xAE, 0x6B, 0xAE, 0x83, 0x81, 0x02, 0x86, 0x86]);
        bytes.extend_from_slice(codec);
        bytes
    }

    /// The start of an MP4 file with tracks of these handler types.
    fn mp4(brand: &[u8; 4], handlers: &[&[u8; 4]]) -> Vec<u8> {
        let mut bytes = vec![0, 0, 0, 0x18];
        bytes.extend_from_slice(b"ftyp");
        bytes.extend_from_slice(brand);
        bytes.extend_from_slice(&[0; 12]);
        for handler in handlers {
            bytes.extend_from_slice(&[0, 0, 0, 0x21]);
            bytes.extend_from_slice(b"hdlr");
            bytes.extend_from_slice(&[0; 8]);
            bytes.extend_from_slice(*handler);
            bytes.extend_from_slice(&[0; 13]);
        }
        bytes
    }

    #[test]
    fn a_recorded_voice_message_is_audio_and_a_video_in_the_same_container_is_refused() {
        assert_eq!(sniff(&webm(b"A_OPUS"), "voice.webm"), Some("audio/webm"));
        assert_eq!(sniff(&webm(b"V_VP8"), "voice.webm"), None);
        assert_eq!(
            sniff(&mp4(b"iso5", &[b"soun"]), "voice.mp4"),
            Some("audio/mp4")
        );
        assert_eq!(
            sniff(&mp4(b"M4A ", &[b"soun"]), "voice.m4a"),
            Some("audio/mp4")
        );
        assert_eq!(
            sniff(&mp4(b"isom", &[b"vide", b"soun"]), "clip.mp4"),
            Some("video/mp4"),
            "a video with sound stays a video"
        );
    }

    #[test]
    fn svg_is_never_shown_inline() {
        assert!(is_inline_image("image/png"));
        assert!(!is_inline_image("image/svg+xml"));
    }
}
