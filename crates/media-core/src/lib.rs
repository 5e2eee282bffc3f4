//! Audio signal processing for rvoip, with no I/O: the frame type, level
//! metering in dBov, energy-based voice activity detection and WAV files
//! (as bytes; reading and writing them is the caller's business).
//!
//! ```
//! use media_core::frame::AudioFrame;
//! use media_core::level::dbov;
//!
//! let frame = AudioFrame::mono(8000, vec![16384; 160]);
//! assert!((dbov(&frame.samples) - -6.02).abs() < 0.01);
//! assert_eq!(frame.duration().as_millis(), 20);
//! ```

pub mod dtmf;
pub mod frame;
pub mod level;
pub mod mixer;
pub mod plc;
pub mod tones;
pub mod vad;
pub mod wav;
