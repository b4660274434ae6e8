//! A ZIP archive written while it is sent: entries are stored (not
//! compressed: they are JPEGs), each file streamed from the object store with
//! its CRC-32 computed on the way and written after it in a data descriptor,
//! so nothing is buffered beyond one chunk. ZIP64 records are added when the
//! archive passes 4 GiB or 65,535 entries.

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::mpsc;

/// One file of the archive.
pub struct ZipEntry<R> {
    /// The name inside the archive (already made safe by the caller).
    pub name: String,
    /// Its bytes.
    pub reader: R,
}

const LOCAL_SIG: u32 = 0x0403_4b50;
const DESCRIPTOR_SIG: u32 = 0x0807_4b50;
const CENTRAL_SIG: u32 = 0x0201_4b50;
const END_SIG: u32 = 0x0605_4b50;
const END64_SIG: u32 = 0x0606_4b50;
const LOCATOR64_SIG: u32 = 0x0706_4b50;
/// Bit 3: sizes and CRC follow the data; bit 11: names are UTF-8.
const FLAGS: u16 = (1 << 3) | (1 << 11);
/// 1980-01-01 00:00 in DOS format (time 0, date (0 << 9) | (1 << 5) | 1).
const DOS_TIME: u16 = 0;
const DOS_DATE: u16 = (1 << 5) | 1;

struct Written {
    name: String,
    crc: u32,
    size: u64,
    offset: u64,
}

/// Why the archive stopped.
#[derive(Debug, thiserror::Error)]
pub enum ZipError {
    /// Reading an entry failed.
    #[error("reading {name}: {source}")]
    Read {
        /// The entry.
        name: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The receiver went away (the browser closed the download).
    #[error("the download was closed")]
    Closed,
    /// A single entry over 4 GiB (not supported: entries are photos).
    #[error("{0} is larger than 4 GiB")]
    EntryTooLarge(String),
}

struct Out {
    tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
    offset: u64,
}

impl Out {
    async fn send(&mut self, bytes: Vec<u8>) -> Result<(), ZipError> {
        self.offset += bytes.len() as u64;
        self.tx
            .send(Ok(Bytes::from(bytes)))
            .await
            .map_err(|_| ZipError::Closed)
    }
}

fn put16(v: &mut Vec<u8>, x: u16) {
    v.extend_from_slice(&x.to_le_bytes());
}
fn put32(v: &mut Vec<u8>, x: u32) {
    v.extend_from_slice(&x.to_le_bytes());
}
fn put64(v: &mut Vec<u8>, x: u64) {
    v.extend_from_slice(&x.to_le_bytes());
}

/// Write the archive of the entries received (each opened by the sender
/// only when the archive is ready for it) into `tx`, one chunk at a time. On error
/// the error is also sent, so the HTTP body ends abnormally (a truncated
/// download, never a valid-looking partial archive).
pub async fn write_zip<R>(
    entries: mpsc::Receiver<ZipEntry<R>>,
    tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
) where
    R: AsyncRead + Unpin,
{
    let mut out = Out { tx, offset: 0 };
    if let Err(e) = write_all(entries, &mut out).await {
        tracing::warn!(error = %e, "ZIP download stopped");
        let _ = out.tx.send(Err(std::io::Error::other(e.to_string()))).await;
    }
}

async fn write_all<R>(
    mut entries: mpsc::Receiver<ZipEntry<R>>,
    out: &mut Out,
) -> Result<(), ZipError>
where
    R: AsyncRead + Unpin,
{
    let mut written = Vec::new();
    while let Some(mut entry) = entries.recv().await {
        let offset = out.offset;
        let mut head = Vec::with_capacity(30 + entry.name.len());
        put32(&mut head, LOCAL_SIG);
        put16(&mut head, 20); // version needed: 2.0
        put16(&mut head, FLAGS);
        put16(&mut head, 0); // stored
        put16(&mut head, DOS_TIME);
        put16(&mut head, DOS_DATE);
        put32(&mut head, 0); // CRC, in the descriptor
        put32(&mut head, 0); // compressed size, in the descriptor
        put32(&mut head, 0); // size, in the descriptor
        put16(
            &mut head,
            u16::try_from(entry.name.len()).unwrap_or(u16::MAX),
        );
        put16(&mut head, 0); // no extra field
        head.extend_from_slice(entry.name.as_bytes());
        out.send(head).await?;

        let mut crc = crc32fast::Hasher::new();
        let mut size = 0u64;
        loop {
            let mut buf = vec![0u8; 64 * 1024];
            let n = entry
                .reader
                .read(&mut buf)
                .await
                .map_err(|source| ZipError::Read {
                    name: entry.name.clone(),
                    source,
                })?;
            if n == 0 {
                break;
            }
            buf.truncate(n);
            crc.update(&buf);
            size += n as u64;
            out.send(buf).await?;
        }
        let size32 =
            u32::try_from(size).map_err(|_| ZipError::EntryTooLarge(entry.name.clone()))?;
        let crc = crc.finalize();
        let mut desc = Vec::with_capacity(16);
        put32(&mut desc, DESCRIPTOR_SIG);
        put32(&mut desc, crc);
        put32(&mut desc, size32);
        put32(&mut desc, size32);
        out.send(desc).await?;
        written.push(Written {
            name: entry.name,
            crc,
            size,
            offset,
        });
    }

    let cd_start = out.offset;
    let mut cd = Vec::new();
    for w in &written {
        let far = w.offset >= u64::from(u32::MAX);
        put32(&mut cd, CENTRAL_SIG);
        put16(&mut cd, (3 << 8) | 45); // made by: Unix, 4.5
        put16(&mut cd, if far { 45 } else { 20 });
        put16(&mut cd, FLAGS);
        put16(&mut cd, 0);
        put16(&mut cd, DOS_TIME);
        put16(&mut cd, DOS_DATE);
        put32(&mut cd, w.crc);
        put32(&mut cd, w.size as u32);
        put32(&mut cd, w.size as u32);
        put16(&mut cd, u16::try_from(w.name.len()).unwrap_or(u16::MAX));
        put16(&mut cd, if far { 12 } else { 0 });
        put16(&mut cd, 0); // comment
        put16(&mut cd, 0); // disk
        put16(&mut cd, 0); // internal attributes
        put32(&mut cd, 0o100644 << 16); // external: a regular file, rw-r--r--
        put32(&mut cd, if far { u32::MAX } else { w.offset as u32 });
        cd.extend_from_slice(w.name.as_bytes());
        if far {
            put16(&mut cd, 0x0001);
            put16(&mut cd, 8);
            put64(&mut cd, w.offset);
        }
        if cd.len() >= 64 * 1024 {
            out.send(std::mem::take(&mut cd)).await?;
        }
    }
    out.send(cd).await?;
    let cd_end = out.offset;
    let cd_size = cd_end - cd_start;
    let count = written.len() as u64;
    let zip64 = cd_start >= u64::from(u32::MAX)
        || cd_size >= u64::from(u32::MAX)
        || count >= u64::from(u16::MAX);
    let mut end = Vec::new();
    if zip64 {
        put32(&mut end, END64_SIG);
        put64(&mut end, 44); // size of the rest of this record
        put16(&mut end, (3 << 8) | 45);
        put16(&mut end, 45);
        put32(&mut end, 0);
        put32(&mut end, 0);
        put64(&mut end, count);
        put64(&mut end, count);
        put64(&mut end, cd_size);
        put64(&mut end, cd_start);
        put32(&mut end, LOCATOR64_SIG);
        put32(&mut end, 0);
        put64(&mut end, cd_end);
        put32(&mut end, 1);
    }
    let small = |x: u64, max: u64| if zip64 { max } else { x.min(max) };
    put32(&mut end, END_SIG);
    put16(&mut end, 0);
    put16(&mut end, 0);
    put16(&mut end, small(count, 0xFFFF) as u16);
    put16(&mut end, small(count, 0xFFFF) as u16);
    put32(&mut end, small(cd_size, 0xFFFF_FFFF) as u32);
    put32(&mut end, small(cd_start, 0xFFFF_FFFF) as u32);
    put16(&mut end, 0);
    out.send(end).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn archive_parses_with_python_zipfile() {
        let (tx, mut rx) = mpsc::channel(4);
        let entries = vec![
            ZipEntry {
                name: "a.jpg".to_string(),
                reader: std::io::Cursor::new(vec![1u8; 200_000]),
            },
            ZipEntry {
                name: "b (2).jpg".to_string(),
                reader: std::io::Cursor::new(b"hello".to_vec()),
            },
        ];
        let (etx, erx) = mpsc::channel(1);
        tokio::spawn(async move {
            for e in entries {
                etx.send(e).await.unwrap();
            }
        });
        tokio::spawn(write_zip(erx, tx));
        let mut all = Vec::new();
        while let Some(chunk) = rx.recv().await {
            all.extend_from_slice(&chunk.unwrap());
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.zip");
        std::fs::write(&path, &all).unwrap();
        let Ok(out) = std::process::Command::new("python3")
            .args([
                "-c",
                "import sys,zipfile;z=zipfile.ZipFile(sys.argv[1]);assert z.testzip() is None;\
                 print(*[f'{i.filename}:{i.file_size}' for i in z.infolist()])",
            ])
            .arg(&path)
            .output()
        else {
            eprintln!("python3 not found: only the structure is checked");
            return;
        };
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            "a.jpg:200000 b (2).jpg:5"
        );
    }
}
