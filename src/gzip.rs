//! Gzip with a compressor reused per thread.
//!
//! `GzEncoder::new` allocates and zeroes the deflate tables (~300 KB) for every stream: for a
//! 15 KB tile that setup cost more than the compression. Each thread keeps one raw-deflate
//! compressor and resets it; the gzip framing (RFC 1952: a 10-byte header, CRC-32 and length
//! trailer) is written here.
//!
//! The backend is `zlib-rs` at level 1, both chosen by measurement on the benchmark lists
//! (2,000 tiles of the 200k-point layer, z6–14): per tile, miniz_oxide level 1 took 260 µs for
//! 15.1 KB, zlib-rs level 1 124 µs for 17.5 KB, level 2 241 µs for 14.0 KB. Over HTTP, level 1
//! against level 2 served 29% more uncached tiles and 46% more `items` pages per second for
//! about a quarter more bytes; a body is compressed once and then cached.

use std::cell::RefCell;

use flate2::{Compress, Compression, Crc, FlushCompress, Status};

thread_local! {
    static FAST: RefCell<Compress> = RefCell::new(Compress::new(Compression::fast(), false));
}

/// The gzip member (RFC 1952) of `data`, at flate2's fastest level.
///
/// ```
/// use std::io::Read;
/// let text = b"tiles, tiles, tiles".repeat(100);
/// let packed = amis_webgis::gzip::compress_fast(&text);
/// assert!(packed.len() < text.len() / 10);
/// let mut back = Vec::new();
/// flate2::read::GzDecoder::new(&packed[..]).read_to_end(&mut back).unwrap();
/// assert_eq!(back, text);
/// ```
pub fn compress_fast(data: &[u8]) -> Vec<u8> {
    // Header: magic, deflate, no flags, no mtime, no extra flags, OS unknown.
    let mut out = Vec::with_capacity(data.len() / 2 + 64);
    out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);
    FAST.with(|cell| {
        let mut compress = cell.borrow_mut();
        compress.reset();
        deflate_into(&mut compress, data, &mut out);
    });
    let mut crc = Crc::new();
    crc.update(data);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    // ISIZE is the length modulo 2^32 by definition.
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

/// Finishes a raw deflate stream of `data` onto `out`, growing it as needed.
fn deflate_into(compress: &mut Compress, data: &[u8], out: &mut Vec<u8>) {
    let start = compress.total_in();
    loop {
        let consumed = (compress.total_in() - start) as usize;
        if out.capacity() - out.len() < 1024 {
            out.reserve(out.capacity().max(4096));
        }
        match compress.compress_vec(&data[consumed..], out, FlushCompress::Finish) {
            Ok(Status::StreamEnd) => return,
            Ok(_) => {}
            // Compressing from memory into a growing Vec has no failure mode; if miniz ever
            // reported one, looping would not fix it.
            Err(_) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn gunzip(packed: &[u8]) -> Vec<u8> {
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(packed)
            .read_to_end(&mut back)
            .expect("valid gzip");
        back
    }

    #[test]
    fn round_trips_empty_small_and_incompressible_inputs_on_one_thread() {
        // Pseudo-random bytes do not compress: the output must grow past its first guess.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let noise: Vec<u8> = (0..200_000)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        let inputs: [&[u8]; 4] = [b"", b"a", &noise, b"the same compressor, reset"];
        for data in inputs {
            assert_eq!(gunzip(&compress_fast(data)), data, "{} bytes", data.len());
        }
    }
}
