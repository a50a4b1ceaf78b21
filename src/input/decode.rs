//! Turning an input's bytes into UTF-8: which encoding a file is in, and a
//! streaming transcoder for the ones that are not UTF-8 already.
//!
//! The order of evidence, strongest first: `--encoding`; a byte-order mark
//! (UTF-8, UTF-16 LE/BE); a sample that is valid UTF-8 (or nearly so: a
//! few broken bytes in a UTF-8 file are rows to reject, not a reason to
//! read the whole file as Windows-1252); a UTF-16 file without a mark,
//! recognised by its zero bytes; otherwise chardetng's guess for a legacy
//! encoding. UTF-8 is passed through untouched, so its invalid bytes reach
//! the rows and are rejected there with the record; in a transcoded file a
//! malformed sequence becomes the byte `0xFF` (never valid UTF-8), so that
//! row is rejected as `invalid-encoding` too.

use std::io::{self, Read};

use encoding_rs::{CoderResult, Decoder, DecoderResult, Encoding, UTF_16BE, UTF_16LE, UTF_8};

/// How the encoding of an input was settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncodingSource {
    /// Named with `--encoding`.
    Option,
    /// A byte-order mark at the start of the file.
    Bom,
    /// Guessed from the content.
    Detected,
}

impl EncodingSource {
    pub fn name(self) -> &'static str {
        match self {
            EncodingSource::Option => "option",
            EncodingSource::Bom => "byte-order mark",
            EncodingSource::Detected => "detected",
        }
    }
}

/// What was found about an input's encoding.
#[derive(Debug, Clone, Copy)]
pub struct Detected {
    pub encoding: &'static Encoding,
    pub source: EncodingSource,
    /// Bytes of byte-order mark to skip.
    pub bom_len: usize,
}

/// Settles the encoding of a file from the start of its bytes.
pub fn detect(sample: &[u8], forced: Option<&'static Encoding>, eof: bool) -> Detected {
    let (bom, bom_len) = match Encoding::for_bom(sample) {
        Some((e, n)) => (Some(e), n),
        None => (None, 0),
    };
    if let Some(encoding) = forced {
        // A mark of the named encoding is still not data.
        let bom_len = if bom == Some(encoding) { bom_len } else { 0 };
        return Detected {
            encoding,
            source: EncodingSource::Option,
            bom_len,
        };
    }
    if let Some(encoding) = bom {
        return Detected {
            encoding,
            source: EncodingSource::Bom,
            bom_len,
        };
    }
    let encoding = guess(sample, eof);
    Detected {
        encoding,
        source: EncodingSource::Detected,
        bom_len: 0,
    }
}

fn guess(sample: &[u8], eof: bool) -> &'static Encoding {
    if let Some(e) = utf16_without_bom(sample) {
        return e;
    }
    let (valid_multi, invalid) = utf8_evidence(sample, eof);
    // A UTF-8 file with a few broken bytes stays UTF-8: its broken rows are
    // rejected with their bytes shown, the rest of the file reads right.
    if invalid == 0 || valid_multi >= 4 * invalid {
        return UTF_8;
    }
    let mut det = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    det.feed(sample, eof);
    det.guess(None, chardetng::Utf8Detection::Deny)
}

/// UTF-16 without a byte-order mark: mostly ASCII text, so every other byte
/// is zero.
fn utf16_without_bom(sample: &[u8]) -> Option<&'static Encoding> {
    let n = sample.len().min(4096) & !1;
    if n < 8 {
        return None;
    }
    let zeros_at = |parity: usize| {
        sample[..n]
            .iter()
            .skip(parity)
            .step_by(2)
            .filter(|&&b| b == 0)
            .count()
    };
    let (even, odd) = (zeros_at(0), zeros_at(1));
    let half = n / 2;
    if odd * 10 >= half * 7 && even * 10 < half {
        Some(UTF_16LE)
    } else if even * 10 >= half * 7 && odd * 10 < half {
        Some(UTF_16BE)
    } else {
        None
    }
}

/// Counts valid multi-byte characters and invalid sequences. A sequence
/// cut by the end of a sample that is not the end of the file is not
/// counted as invalid.
fn utf8_evidence(sample: &[u8], eof: bool) -> (usize, usize) {
    let mut valid_multi = 0;
    let mut invalid = 0;
    let mut chunks = sample.utf8_chunks().peekable();
    while let Some(chunk) = chunks.next() {
        valid_multi += chunk.valid().chars().filter(|c| !c.is_ascii()).count();
        let bad = chunk.invalid();
        let cut_by_sample_end = chunks.peek().is_none() && !eof && bad.len() < 4;
        if !bad.is_empty() && !cut_by_sample_end {
            invalid += 1;
        }
    }
    (valid_multi, invalid)
}

/// Whether the bytes hold NUL bytes in a way no text encoding explains: the
/// mark of a binary file.
pub fn looks_binary(sample: &[u8], encoding: &'static Encoding) -> bool {
    if encoding == UTF_16LE || encoding == UTF_16BE {
        return false;
    }
    sample.contains(&0)
}

/// Reads any encoding as UTF-8, a buffer at a time.
pub struct Transcode<R> {
    inner: R,
    decoder: Decoder,
    input: Vec<u8>,
    in_pos: usize,
    in_len: usize,
    eof: bool,
    done: bool,
    output: Vec<u8>,
    out_pos: usize,
    out_len: usize,
}

impl<R: Read> Transcode<R> {
    /// `inner` must start after any byte-order mark.
    pub fn new(inner: R, encoding: &'static Encoding) -> Self {
        Transcode {
            inner,
            decoder: encoding.new_decoder_without_bom_handling(),
            input: vec![0; 64 * 1024],
            in_pos: 0,
            in_len: 0,
            eof: false,
            done: false,
            output: vec![0; 3 * 64 * 1024 + 16],
            out_pos: 0,
            out_len: 0,
        }
    }

    fn refill(&mut self) -> io::Result<()> {
        if self.in_pos == self.in_len && !self.eof {
            self.in_pos = 0;
            self.in_len = read_full(&mut self.inner, &mut self.input)?;
            self.eof = self.in_len == 0;
        }
        self.out_pos = 0;
        self.out_len = 0;
        loop {
            let (res, read, written) = self.decoder.decode_to_utf8_without_replacement(
                &self.input[self.in_pos..self.in_len],
                &mut self.output[self.out_len..],
                self.eof,
            );
            self.in_pos += read;
            self.out_len += written;
            match res {
                DecoderResult::InputEmpty => {
                    self.done = self.eof;
                    return Ok(());
                }
                DecoderResult::OutputFull => return Ok(()),
                DecoderResult::Malformed(..) => {
                    // Room is always left for this byte: the decoder needs
                    // at least 4 bytes of output space to make progress.
                    if self.out_len < self.output.len() {
                        self.output[self.out_len] = 0xFF;
                        self.out_len += 1;
                    }
                    if self.out_len + 8 > self.output.len() {
                        return Ok(());
                    }
                }
            }
        }
    }
}

impl<R: Read> Read for Transcode<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.out_pos == self.out_len {
            if self.done {
                return Ok(0);
            }
            self.refill()?;
        }
        let n = (self.out_len - self.out_pos).min(buf.len());
        buf[..n].copy_from_slice(&self.output[self.out_pos..self.out_pos + n]);
        self.out_pos += n;
        Ok(n)
    }
}

/// UTF-8 for a file whose first bytes were all ASCII, until its first
/// non-ASCII byte says otherwise: a Windows-1252 export sorted by name can
/// hold its first `ü` far past the sample. ASCII reads the same in every
/// encoding this switch can pick, so the bytes already passed on stay
/// right. What was decided is published in `found`.
pub struct LateDetect<R: Read> {
    inner: Option<R>,
    buf: Vec<u8>,
    pos: usize,
    len: usize,
    /// Still only ASCII seen.
    undecided: bool,
    legacy: Option<Transcode<io::Chain<io::Cursor<Vec<u8>>, R>>>,
    found: std::sync::Arc<std::sync::OnceLock<&'static Encoding>>,
}

impl<R: Read> LateDetect<R> {
    pub fn new(inner: R, found: std::sync::Arc<std::sync::OnceLock<&'static Encoding>>) -> Self {
        LateDetect {
            inner: Some(inner),
            buf: vec![0; 64 * 1024],
            pos: 0,
            len: 0,
            undecided: true,
            legacy: None,
            found,
        }
    }

    /// Settles the encoding at the first non-ASCII byte, at `buf[at]`.
    fn decide(&mut self, at: usize) {
        self.undecided = false;
        let chunk = &self.buf[at..self.len];
        let (valid_multi, invalid) = utf8_evidence(chunk, false);
        let encoding = if invalid == 0 || valid_multi >= 4 * invalid {
            UTF_8
        } else {
            let mut det = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
            det.feed(chunk, false);
            det.guess(None, chardetng::Utf8Detection::Deny)
        };
        let _ = self.found.set(encoding);
        if encoding == UTF_8 {
            return;
        }
        if let Some(inner) = self.inner.take() {
            let rest = io::Cursor::new(self.buf[self.pos..self.len].to_vec()).chain(inner);
            self.legacy = Some(Transcode::new(rest, encoding));
        }
    }
}

impl<R: Read> Read for LateDetect<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if let Some(t) = &mut self.legacy {
            return t.read(out);
        }
        if self.pos == self.len {
            let Some(inner) = self.inner.as_mut() else {
                return Ok(0);
            };
            self.len = read_full(inner, &mut self.buf)?;
            self.pos = 0;
            if self.len == 0 {
                return Ok(0);
            }
            if self.undecided {
                if let Some(i) = self.buf[..self.len].iter().position(|b| !b.is_ascii()) {
                    self.decide(i);
                    if let Some(t) = &mut self.legacy {
                        return t.read(out);
                    }
                }
            }
        }
        let n = (self.len - self.pos).min(out.len());
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
pub fn read_full<R: Read + ?Sized>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Decodes a whole sample (for sniffing the dialect), ignoring a cut
/// character at its end.
pub fn decode_sample(sample: &[u8], encoding: &'static Encoding) -> String {
    if encoding == UTF_8 {
        return String::from_utf8_lossy(sample).into_owned();
    }
    let mut decoder = encoding.new_decoder_without_bom_handling();
    let cap = decoder
        .max_utf8_buffer_length(sample.len())
        .unwrap_or(sample.len() * 3 + 16);
    let mut out = String::with_capacity(cap);
    let (res, _, _) = decoder.decode_to_string(sample, &mut out, false);
    debug_assert!(res == CoderResult::InputEmpty);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use encoding_rs::WINDOWS_1252;

    fn transcode(bytes: &[u8], e: &'static Encoding) -> Vec<u8> {
        let mut out = Vec::new();
        Transcode::new(bytes, e).read_to_end(&mut out).unwrap();
        out
    }

    #[test]
    fn a_mark_decides_and_is_skipped() {
        let d = detect(b"\xEF\xBB\xBFa,b\n", None, true);
        assert_eq!(
            (d.encoding, d.source, d.bom_len),
            (UTF_8, EncodingSource::Bom, 3)
        );
        let d = detect(b"\xFF\xFEa\0,\0b\0", None, true);
        assert_eq!((d.encoding, d.bom_len), (UTF_16LE, 2));
        let d = detect(b"\xFE\xFF\0a\0,\0b", None, true);
        assert_eq!(d.encoding, UTF_16BE);
    }

    #[test]
    fn utf8_latin1_and_utf16_are_told_apart() {
        assert_eq!(
            detect("Müller,Zoë\n".as_bytes(), None, true).encoding,
            UTF_8
        );
        assert_eq!(detect(b"plain,ascii\n", None, true).encoding, UTF_8);
        let latin = b"name,city\nM\xFCller,K\xF6ln\nFran\xE7ois,Besan\xE7on\n";
        assert_eq!(detect(latin, None, true).encoding, WINDOWS_1252);
        let le: Vec<u8> = "email,name\nana@x.com,Ana\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        assert_eq!(detect(&le, None, true).encoding, UTF_16LE);
    }

    #[test]
    fn a_few_broken_bytes_keep_utf8() {
        let mut s = "Zoë,Müller,Café,Ågren,Øster\n".repeat(3).into_bytes();
        s.extend_from_slice(b"bad\xFF,row\n");
        assert_eq!(detect(&s, None, true).encoding, UTF_8);
    }

    #[test]
    fn a_cut_character_at_the_end_of_a_sample_is_not_evidence() {
        let s = "Zoë".as_bytes();
        assert_eq!(detect(&s[..3], None, false).encoding, UTF_8);
    }

    #[test]
    fn transcoding_gives_utf8_and_marks_malformed_bytes() {
        assert_eq!(transcode(b"M\xFCller", WINDOWS_1252), "Müller".as_bytes());
        let le: Vec<u8> = "Zoë,x\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        assert_eq!(transcode(&le, UTF_16LE), "Zoë,x\n".as_bytes());
        // An unpaired surrogate.
        assert_eq!(transcode(b"a\0\x00\xD8b\0", UTF_16LE), b"a\xFFb");
    }

    #[test]
    fn a_late_first_accent_decides_the_encoding() {
        let found = std::sync::Arc::new(std::sync::OnceLock::new());
        let mut bytes = b"name,city\n".repeat(10_000);
        bytes.extend_from_slice(b"J\xFCrgen,K\xF6ln\n");
        let mut out = Vec::new();
        LateDetect::new(&bytes[..], found.clone())
            .read_to_end(&mut out)
            .unwrap();
        assert!(out.ends_with("Jürgen,Köln\n".as_bytes()));
        assert_eq!(out.len(), bytes.len() + 2);
        assert_eq!(found.get(), Some(&WINDOWS_1252));

        let found = std::sync::Arc::new(std::sync::OnceLock::new());
        let mut bytes = b"name,city\n".repeat(10_000);
        bytes.extend_from_slice("Jürgen,Köln\n".as_bytes());
        let mut out = Vec::new();
        LateDetect::new(&bytes[..], found.clone())
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, bytes);
        assert_eq!(found.get(), Some(&UTF_8));
    }

    #[test]
    fn transcoding_a_long_input_loses_nothing() {
        let text = "Grüße aus Köln, ça va? ".repeat(20_000);
        let bytes = WINDOWS_1252.encode(&text).0.into_owned();
        assert_eq!(transcode(&bytes, WINDOWS_1252), text.as_bytes());
    }
}
