//! The KCP control block: a pure state machine (no socket, no clock of its own), written for
//! libsock from the protocol's description. Time is a `u32` count of milliseconds given by the
//! caller; datagrams to send are collected in [`Kcp::take_output`].
//!
//! Wire format of a segment (little endian, 24-byte header then the data):
//! `conv u32, cmd u8, frg u8, wnd u16, ts u32, sn u32, una u32, len u32, data[len]`.
//! Several segments may share one datagram (up to the MTU).

use std::collections::VecDeque;

/// Header bytes of each segment.
pub const OVERHEAD: usize = 24;
/// Data segment.
pub const CMD_PUSH: u8 = 81;
/// Acknowledgement.
pub const CMD_ACK: u8 = 82;
/// Window probe (ask the peer for its window).
pub const CMD_WASK: u8 = 83;
/// Window size (answer to a probe).
pub const CMD_WINS: u8 = 84;

const ASK_SEND: u32 = 1;
const ASK_TELL: u32 = 2;
const RTO_NODELAY_MIN: u32 = 30;
const RTO_NORMAL_MIN: u32 = 100;
const RTO_INITIAL: u32 = 200;
const RTO_MAX: u32 = 60_000;
const THRESH_INIT: u32 = 2;
const THRESH_MIN: u32 = 2;
/// The first window probe after the peer's window closed. The reference waits 7 s; the
/// peer's "window open again" (a WINS segment) is sent once and unacknowledged, so when it is
/// lost the sender stalls until its probe: libsock probes after 200 ms (then ×1.5 up to
/// [`PROBE_LIMIT`]). A local policy: the wire is the same.
const PROBE_INIT: u32 = 200;
/// The longest wait between window probes.
const PROBE_LIMIT: u32 = 120_000;
/// How many flushes after the first repeat the "window open again" (WINS) segment: the WINS is
/// unacknowledged, and a peer running the reference implementation whose copy was lost waits
/// 7 s for its own probe (a local policy: the wire is the same; four 24-byte segments per
/// reopened window against seconds of stall under loss).
const TELL_REPEATS: u32 = 4;
/// The most fragments one message may have: the reference implementation refuses messages of
/// 128 fragments or more whatever the windows, so libsock does too (a peer could not take them).
pub const MAX_FRAGMENTS: usize = 127;

/// `a - b` as a signed distance on the 32-bit sequence/time circle.
#[inline]
fn diff(a: u32, b: u32) -> i32 {
    a.wrapping_sub(b) as i32
}

/// What went wrong with an incoming datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputError {
    /// Shorter than a header, or a segment claims more data than the datagram holds.
    Truncated,
    /// The conversation id is not this session's.
    WrongConv(u32),
    /// An unknown command byte.
    BadCommand(u8),
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InputError::Truncated => f.write_str("truncated KCP segment"),
            InputError::WrongConv(c) => write!(f, "KCP segment of another conversation ({c})"),
            InputError::BadCommand(c) => write!(f, "unknown KCP command {c}"),
        }
    }
}

#[derive(Debug, Default, Clone)]
struct Segment {
    cmd: u8,
    frg: u8,
    ts: u32,
    sn: u32,
    resend_at: u32,
    rto: u32,
    fastack: u32,
    xmit: u32,
    data: Vec<u8>,
}

/// One KCP conversation's state.
#[derive(Debug)]
pub struct Kcp {
    conv: u32,
    mtu: usize,
    mss: usize,
    dead: bool,
    snd_una: u32,
    snd_nxt: u32,
    rcv_nxt: u32,
    ssthresh: u32,
    rttval: u32,
    srtt: u32,
    rto: u32,
    min_rto: u32,
    snd_wnd: u32,
    rcv_wnd: u32,
    rmt_wnd: u32,
    cwnd: u32,
    incr: u32,
    probe: u32,
    /// Flushes left that repeat the WINS after the window reopened (see [`TELL_REPEATS`]).
    tell_repeats: u32,
    current: u32,
    interval: u32,
    ts_flush: u32,
    nodelay: u32,
    updated: bool,
    ts_probe: u32,
    probe_wait: u32,
    dead_link: u32,
    retransmits: u64,
    fastresend: u32,
    fastlimit: u32,
    nocwnd: bool,
    stream: bool,
    snd_queue: VecDeque<Segment>,
    snd_buf: VecDeque<Segment>,
    rcv_buf: VecDeque<Segment>,
    rcv_queue: VecDeque<Segment>,
    acks: Vec<(u32, u32)>,
    out: Vec<Vec<u8>>,
    pending: Vec<u8>,
}

impl Kcp {
    /// A conversation `conv` with the reference defaults (MTU 1400, windows 32/128, interval
    /// 100 ms, no nodelay, congestion control on, dead link 20).
    pub fn new(conv: u32) -> Kcp {
        Kcp {
            conv,
            mtu: 1400,
            mss: 1400 - OVERHEAD,
            dead: false,
            snd_una: 0,
            snd_nxt: 0,
            rcv_nxt: 0,
            ssthresh: THRESH_INIT,
            rttval: 0,
            srtt: 0,
            rto: RTO_INITIAL,
            min_rto: RTO_NORMAL_MIN,
            snd_wnd: 32,
            rcv_wnd: 128,
            rmt_wnd: 128,
            cwnd: 0,
            incr: 0,
            probe: 0,
            tell_repeats: 0,
            current: 0,
            interval: 100,
            ts_flush: 100,
            nodelay: 0,
            updated: false,
            ts_probe: 0,
            probe_wait: 0,
            dead_link: 20,
            retransmits: 0,
            fastresend: 0,
            fastlimit: 5,
            nocwnd: false,
            stream: false,
            snd_queue: VecDeque::new(),
            snd_buf: VecDeque::new(),
            rcv_buf: VecDeque::new(),
            rcv_queue: VecDeque::new(),
            acks: Vec::new(),
            out: Vec::new(),
            pending: Vec::new(),
        }
    }

    /// The conversation id.
    pub fn conv(&self) -> u32 {
        self.conv
    }

    /// Set the MTU (bytes per datagram, headers included; at least 50).
    pub fn set_mtu(&mut self, mtu: usize) {
        self.mtu = mtu.max(50);
        self.mss = self.mtu - OVERHEAD;
    }

    /// The largest data bytes per segment.
    pub fn mss(&self) -> usize {
        self.mss
    }

    /// The largest message [`send`](Kcp::send) takes (message mode).
    pub fn max_message(&self) -> usize {
        self.mss * MAX_FRAGMENTS.min(self.rcv_wnd as usize)
    }

    /// The tuning: `nodelay` 0 (off), 1 or 2 (faster RTO growth), the flush interval (ms,
    /// 10..=5000), fast resend after `resend` duplicate acks (0 = off), `nc` turns congestion
    /// control off. Setting nodelay also sets the minimum RTO (30 ms on, 100 ms off).
    pub fn set_nodelay(&mut self, nodelay: u32, interval: u32, resend: u32, nc: bool) {
        self.nodelay = nodelay;
        self.min_rto = if nodelay > 0 {
            RTO_NODELAY_MIN
        } else {
            RTO_NORMAL_MIN
        };
        self.interval = interval.clamp(10, 5000);
        self.fastresend = resend;
        self.nocwnd = nc;
    }

    /// Set the minimum retransmission timeout (ms).
    pub fn set_min_rto(&mut self, ms: u32) {
        self.min_rto = ms.max(1);
    }

    /// Set the send and receive windows (segments; the receive window is at least 128 so that a
    /// message of the most fragments fits).
    pub fn set_windows(&mut self, snd: u32, rcv: u32) {
        self.snd_wnd = snd.max(1);
        self.rcv_wnd = rcv.max(MAX_FRAGMENTS as u32 + 1);
    }

    /// Stream mode: messages may be merged and split (no boundaries), as over TCP.
    pub fn set_stream(&mut self, on: bool) {
        self.stream = on;
    }

    /// Retransmissions of one segment after which the link is declared dead.
    pub fn set_dead_link(&mut self, n: u32) {
        self.dead_link = n.max(1);
    }

    /// True once a segment was sent `dead_link` times without being acknowledged.
    pub fn is_dead(&self) -> bool {
        self.dead
    }

    /// Segments waiting to be sent or acknowledged.
    pub fn waiting(&self) -> usize {
        self.snd_buf.len() + self.snd_queue.len()
    }

    /// Retransmissions so far (timeouts and fast resends).
    pub fn retransmits(&self) -> u64 {
        self.retransmits
    }

    /// The current smoothed round-trip time estimate (ms; 0 before the first ack).
    pub fn srtt(&self) -> u32 {
        self.srtt
    }

    /// Queue a message (fragmented into segments of at most the MSS). `Err(limit)` when it is
    /// longer than [`max_message`](Kcp::max_message) (message mode) or empty.
    pub fn send(&mut self, mut data: &[u8]) -> Result<(), usize> {
        if data.is_empty() {
            return Err(0);
        }
        if self.stream {
            if let Some(last) = self.snd_queue.back_mut() {
                if last.data.len() < self.mss {
                    let take = (self.mss - last.data.len()).min(data.len());
                    last.data.extend_from_slice(&data[..take]);
                    data = &data[take..];
                }
            }
            if data.is_empty() {
                return Ok(());
            }
        }
        let count = data.len().div_ceil(self.mss);
        if !self.stream && count > MAX_FRAGMENTS.min(self.rcv_wnd as usize) {
            return Err(self.max_message());
        }
        for (i, chunk) in data.chunks(self.mss).enumerate() {
            self.snd_queue.push_back(Segment {
                cmd: CMD_PUSH,
                frg: if self.stream {
                    0
                } else {
                    (count - i - 1) as u8
                },
                data: chunk.to_vec(),
                ..Segment::default()
            });
        }
        Ok(())
    }

    /// The size of the next whole message, if one is ready.
    pub fn peek_size(&self) -> Option<usize> {
        let first = self.rcv_queue.front()?;
        if first.frg == 0 {
            return Some(first.data.len());
        }
        if self.rcv_queue.len() < first.frg as usize + 1 {
            return None;
        }
        let mut n = 0;
        for s in &self.rcv_queue {
            n += s.data.len();
            if s.frg == 0 {
                break;
            }
        }
        Some(n)
    }

    /// Take the next whole message, if one is ready.
    pub fn recv(&mut self) -> Option<Vec<u8>> {
        let size = self.peek_size()?;
        let was_full = self.rcv_queue.len() as u32 >= self.rcv_wnd;
        let mut msg = Vec::with_capacity(size);
        while let Some(s) = self.rcv_queue.pop_front() {
            msg.extend_from_slice(&s.data);
            if s.frg == 0 {
                break;
            }
        }
        self.move_ready();
        if was_full && (self.rcv_queue.len() as u32) < self.rcv_wnd {
            // The window reopened: tell the peer at the next flush, and a few flushes more.
            self.probe |= ASK_TELL;
            self.tell_repeats = TELL_REPEATS;
        }
        Some(msg)
    }

    /// Move in-order segments from the reorder buffer to the message queue.
    fn move_ready(&mut self) {
        while let Some(s) = self.rcv_buf.front() {
            if s.sn != self.rcv_nxt || self.rcv_queue.len() as u32 >= self.rcv_wnd {
                break;
            }
            let s = self.rcv_buf.pop_front().expect("front exists");
            self.rcv_queue.push_back(s);
            self.rcv_nxt = self.rcv_nxt.wrapping_add(1);
        }
    }

    fn shrink_buf(&mut self) {
        self.snd_una = self.snd_buf.front().map(|s| s.sn).unwrap_or(self.snd_nxt);
    }

    fn on_rtt(&mut self, rtt: u32) {
        if self.srtt == 0 {
            self.srtt = rtt.max(1);
            self.rttval = rtt / 2;
        } else {
            let delta = rtt.abs_diff(self.srtt);
            self.rttval = (3 * self.rttval + delta) / 4;
            self.srtt = ((7 * self.srtt + rtt) / 8).max(1);
        }
        let rto = self.srtt + self.interval.max(4 * self.rttval);
        self.rto = rto.clamp(self.min_rto, RTO_MAX);
    }

    fn acked(&mut self, sn: u32) {
        if diff(sn, self.snd_una) < 0 || diff(sn, self.snd_nxt) >= 0 {
            return;
        }
        if let Some(i) = self.snd_buf.iter().position(|s| s.sn == sn) {
            self.snd_buf.remove(i);
        }
    }

    fn acked_below(&mut self, una: u32) {
        while let Some(s) = self.snd_buf.front() {
            if diff(s.sn, una) >= 0 {
                break;
            }
            self.snd_buf.pop_front();
        }
    }

    fn store(&mut self, seg: Segment) {
        let sn = seg.sn;
        if diff(sn, self.rcv_nxt.wrapping_add(self.rcv_wnd)) >= 0 || diff(sn, self.rcv_nxt) < 0 {
            return;
        }
        // Sorted by sn; search from the back (segments mostly arrive in order).
        let mut at = self.rcv_buf.len();
        while at > 0 {
            let prev = self.rcv_buf[at - 1].sn;
            if prev == sn {
                return; // duplicate
            }
            if diff(sn, prev) > 0 {
                break;
            }
            at -= 1;
        }
        self.rcv_buf.insert(at, seg);
        self.move_ready();
    }

    /// Feed one received datagram. Segments before an error are kept.
    pub fn input(&mut self, mut data: &[u8]) -> Result<(), InputError> {
        if data.len() < OVERHEAD {
            return Err(InputError::Truncated);
        }
        let prev_una = self.snd_una;
        let mut max_ack: Option<(u32, u32)> = None;
        let u32_at = |d: &[u8], o: usize| u32::from_le_bytes([d[o], d[o + 1], d[o + 2], d[o + 3]]);
        while data.len() >= OVERHEAD {
            let conv = u32_at(data, 0);
            if conv != self.conv {
                return Err(InputError::WrongConv(conv));
            }
            let cmd = data[4];
            let frg = data[5];
            let wnd = u16::from_le_bytes([data[6], data[7]]) as u32;
            let ts = u32_at(data, 8);
            let sn = u32_at(data, 12);
            let una = u32_at(data, 16);
            let len = u32_at(data, 20) as usize;
            data = &data[OVERHEAD..];
            if data.len() < len {
                return Err(InputError::Truncated);
            }
            if !(CMD_PUSH..=CMD_WINS).contains(&cmd) {
                return Err(InputError::BadCommand(cmd));
            }
            self.rmt_wnd = wnd;
            self.acked_below(una);
            self.shrink_buf();
            match cmd {
                CMD_ACK => {
                    if diff(self.current, ts) >= 0 {
                        self.on_rtt(diff(self.current, ts) as u32);
                    }
                    self.acked(sn);
                    self.shrink_buf();
                    match max_ack {
                        Some((m, _)) if diff(sn, m) <= 0 => {}
                        _ => max_ack = Some((sn, ts)),
                    }
                }
                // Beyond the window: dropped unacknowledged (the peer sends it again).
                CMD_PUSH if diff(sn, self.rcv_nxt.wrapping_add(self.rcv_wnd)) < 0 => {
                    self.acks.push((sn, ts));
                    if diff(sn, self.rcv_nxt) >= 0 {
                        self.store(Segment {
                            cmd,
                            frg,
                            ts,
                            sn,
                            data: data[..len].to_vec(),
                            ..Segment::default()
                        });
                    }
                }
                CMD_WASK => self.probe |= ASK_TELL,
                _ => {} // WINS (the window was read above), PUSH beyond the window
            }
            data = &data[len..];
        }
        if let Some((sn, _)) = max_ack {
            if diff(sn, self.snd_una) >= 0 {
                for s in self.snd_buf.iter_mut() {
                    if diff(sn, s.sn) <= 0 {
                        break;
                    }
                    s.fastack += 1;
                }
            }
        }
        if diff(self.snd_una, prev_una) > 0 && self.cwnd < self.rmt_wnd {
            let mss = self.mss as u32;
            if self.cwnd < self.ssthresh {
                self.cwnd += 1;
                self.incr += mss;
            } else {
                self.incr = self.incr.max(mss);
                self.incr += (mss * mss) / self.incr + mss / 16;
                if (self.cwnd + 1) * mss <= self.incr {
                    self.cwnd = (self.incr + mss - 1) / mss.max(1);
                }
            }
            if self.cwnd > self.rmt_wnd {
                self.cwnd = self.rmt_wnd;
                self.incr = self.rmt_wnd * mss;
            }
        }
        Ok(())
    }

    /// True when acknowledgements wait to be sent (flush soon for a short RTT).
    pub fn acks_pending(&self) -> bool {
        !self.acks.is_empty()
    }

    fn unused_window(&self) -> u16 {
        self.rcv_wnd
            .saturating_sub(self.rcv_queue.len() as u32)
            .min(65535) as u16
    }

    fn put(&mut self, cmd: u8, frg: u8, wnd: u16, ts: u32, sn: u32, data: &[u8]) {
        if self.pending.len() + OVERHEAD + data.len() > self.mtu && !self.pending.is_empty() {
            self.out.push(std::mem::take(&mut self.pending));
        }
        let p = &mut self.pending;
        p.extend_from_slice(&self.conv.to_le_bytes());
        p.push(cmd);
        p.push(frg);
        p.extend_from_slice(&wnd.to_le_bytes());
        p.extend_from_slice(&ts.to_le_bytes());
        p.extend_from_slice(&sn.to_le_bytes());
        p.extend_from_slice(&self.rcv_nxt.to_le_bytes());
        p.extend_from_slice(&(data.len() as u32).to_le_bytes());
        p.extend_from_slice(data);
    }

    /// Send what is due now: acknowledgements, window probes, new segments within the windows,
    /// retransmissions. Does nothing before the first [`update`](Kcp::update).
    pub fn flush(&mut self) {
        if !self.updated {
            return;
        }
        let wnd = self.unused_window();
        for (sn, ts) in std::mem::take(&mut self.acks) {
            self.put(CMD_ACK, 0, wnd, ts, sn, &[]);
        }
        if self.rmt_wnd == 0 {
            if self.probe_wait == 0 {
                self.probe_wait = PROBE_INIT;
                self.ts_probe = self.current.wrapping_add(self.probe_wait);
            } else if diff(self.current, self.ts_probe) >= 0 {
                self.probe_wait = self.probe_wait.max(PROBE_INIT);
                self.probe_wait = (self.probe_wait + self.probe_wait / 2).min(PROBE_LIMIT);
                self.ts_probe = self.current.wrapping_add(self.probe_wait);
                self.probe |= ASK_SEND;
            }
        } else {
            self.ts_probe = 0;
            self.probe_wait = 0;
        }
        if self.probe & ASK_SEND != 0 {
            self.put(CMD_WASK, 0, wnd, 0, 0, &[]);
        }
        if self.probe & ASK_TELL != 0 {
            self.put(CMD_WINS, 0, wnd, 0, 0, &[]);
        } else if self.tell_repeats > 0 {
            if wnd > 0 {
                self.tell_repeats -= 1;
                self.put(CMD_WINS, 0, wnd, 0, 0, &[]);
            } else {
                // Closed again before every repeat went: nothing to tell until it reopens.
                self.tell_repeats = 0;
            }
        }
        self.probe = 0;

        let mut cwnd = self.snd_wnd.min(self.rmt_wnd);
        if !self.nocwnd {
            cwnd = cwnd.min(self.cwnd.max(1));
        }
        while diff(self.snd_nxt, self.snd_una.wrapping_add(cwnd)) < 0 {
            let Some(mut s) = self.snd_queue.pop_front() else {
                break;
            };
            s.sn = self.snd_nxt;
            self.snd_nxt = self.snd_nxt.wrapping_add(1);
            s.rto = self.rto;
            self.snd_buf.push_back(s);
        }

        let resend = if self.fastresend > 0 {
            self.fastresend
        } else {
            u32::MAX
        };
        let extra = if self.nodelay == 0 { self.rto >> 3 } else { 0 };
        let (mut lost, mut fast) = (false, false);
        let now = self.current;
        let mut bufs = std::mem::take(&mut self.snd_buf);
        for s in bufs.iter_mut() {
            let due = if s.xmit == 0 {
                s.rto = self.rto;
                s.resend_at = now.wrapping_add(s.rto + extra);
                true
            } else if diff(now, s.resend_at) >= 0 {
                let step = if self.nodelay == 0 {
                    s.rto.max(self.rto)
                } else if self.nodelay < 2 {
                    s.rto / 2
                } else {
                    self.rto / 2
                };
                s.rto = (s.rto + step).min(RTO_MAX);
                s.resend_at = now.wrapping_add(s.rto);
                self.retransmits += 1;
                lost = true;
                true
            } else if s.fastack >= resend && (s.xmit <= self.fastlimit || self.fastlimit == 0) {
                s.fastack = 0;
                s.resend_at = now.wrapping_add(s.rto);
                self.retransmits += 1;
                fast = true;
                true
            } else {
                false
            };
            if due {
                s.xmit += 1;
                s.ts = now;
                self.put(s.cmd, s.frg, wnd, s.ts, s.sn, &s.data);
                if s.xmit >= self.dead_link {
                    self.dead = true;
                }
            }
        }
        self.snd_buf = bufs;
        if !self.pending.is_empty() {
            self.out.push(std::mem::take(&mut self.pending));
        }
        if fast {
            let inflight = self.snd_nxt.wrapping_sub(self.snd_una);
            self.ssthresh = (inflight / 2).max(THRESH_MIN);
            self.cwnd = self.ssthresh + resend.min(1 << 16);
            self.incr = self.cwnd * self.mss as u32;
        }
        if lost {
            self.ssthresh = (cwnd / 2).max(THRESH_MIN);
            self.cwnd = 1;
            self.incr = self.mss as u32;
        }
        if self.cwnd < 1 {
            self.cwnd = 1;
            self.incr = self.mss as u32;
        }
    }

    /// Advance the clock to `now` (ms) and flush when the interval has passed.
    pub fn update(&mut self, now: u32) {
        self.current = now;
        if !self.updated {
            self.updated = true;
            self.ts_flush = now;
        }
        let mut slap = diff(now, self.ts_flush);
        if !(-10_000..10_000).contains(&slap) {
            self.ts_flush = now;
            slap = 0;
        }
        if slap >= 0 {
            self.ts_flush = self.ts_flush.wrapping_add(self.interval);
            if diff(now, self.ts_flush) >= 0 {
                self.ts_flush = now.wrapping_add(self.interval);
            }
            self.flush();
        }
    }

    /// [`update`](Kcp::update), then flush at once if a retransmission is due before the next
    /// interval, so that a caller sleeping until [`check`](Kcp::check) never wakes only to
    /// find that `update` had nothing to do.
    pub fn drive(&mut self, now: u32) {
        self.update(now);
        if self.check(now) == 0 {
            self.flush();
        }
    }

    /// Set the clock without flushing (before [`input`](Kcp::input), for RTT samples).
    pub fn set_now(&mut self, now: u32) {
        self.current = now;
        if !self.updated {
            self.updated = true;
            self.ts_flush = now;
        }
    }

    /// Milliseconds from `now` until [`update`](Kcp::update) has something to do (0 = now).
    pub fn check(&self, now: u32) -> u32 {
        if !self.updated {
            return 0;
        }
        let mut ts_flush = self.ts_flush;
        if !(-10_000..10_000).contains(&diff(now, ts_flush)) {
            ts_flush = now;
        }
        if diff(now, ts_flush) >= 0 {
            return 0;
        }
        let mut wait = diff(ts_flush, now) as u32;
        for s in &self.snd_buf {
            let d = diff(s.resend_at, now);
            if d <= 0 {
                return 0;
            }
            wait = wait.min(d as u32);
        }
        wait.min(self.interval)
    }

    /// True when nothing waits to be sent, acknowledged or flushed (an idle session: its timer
    /// may sleep until data or a datagram arrives). The repeats of a "window open again" count
    /// as waiting: a session that slept through them would leave a peer whose copy was lost
    /// stalled until its own probe (7 s in the reference implementation).
    pub fn is_idle(&self) -> bool {
        self.snd_buf.is_empty()
            && self.snd_queue.is_empty()
            && self.acks.is_empty()
            && self.probe == 0
            && self.tell_repeats == 0
            && self.rmt_wnd != 0
    }

    /// True when a window probe or a "window open again" is due at the next flush (set by a
    /// [`recv`](Kcp::recv) that reopened the window, or by the peer's probe).
    pub fn probe_due(&self) -> bool {
        self.probe != 0
    }

    /// Take the datagrams produced by the last flushes.
    pub fn take_output(&mut self) -> Vec<Vec<u8>> {
        std::mem::take(&mut self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two control blocks wired back to back, dropping every `drop_every`-th datagram.
    fn pump(a: &mut Kcp, b: &mut Kcp, now: u32, n: &mut u64, drop_every: u64) {
        for d in a.take_output() {
            *n += 1;
            if drop_every == 0 || *n % drop_every != 0 {
                b.set_now(now);
                b.input(&d).unwrap();
            }
        }
        for d in b.take_output() {
            *n += 1;
            if drop_every == 0 || *n % drop_every != 0 {
                a.set_now(now);
                a.input(&d).unwrap();
            }
        }
    }

    fn transfer(drop_every: u64, stream: bool) {
        let mut a = Kcp::new(7);
        let mut b = Kcp::new(7);
        for k in [&mut a, &mut b] {
            k.set_nodelay(1, 10, 2, true);
            k.set_stream(stream);
            k.set_mtu(200);
        }
        let msgs: Vec<Vec<u8>> = (0..300u32)
            .map(|i| (0..(i * 7 % 900 + 1)).map(|j| (i + j) as u8).collect())
            .collect();
        for m in &msgs {
            a.send(m).unwrap();
        }
        let want: Vec<u8> = msgs.concat();
        let mut got = Vec::new();
        let mut got_msgs = Vec::new();
        let mut n = 0;
        let mut now = 0u32;
        while got.len() < want.len() && now < 600_000 {
            a.update(now);
            b.update(now);
            pump(&mut a, &mut b, now, &mut n, drop_every);
            while let Some(m) = b.recv() {
                got.extend_from_slice(&m);
                got_msgs.push(m);
            }
            now += 10;
        }
        assert_eq!(got, want);
        if !stream {
            assert_eq!(got_msgs, msgs);
        }
        assert!(!a.is_dead());
    }

    #[test]
    fn messages_arrive_whole_and_in_order() {
        transfer(0, false);
    }

    #[test]
    fn messages_survive_loss() {
        transfer(3, false);
        transfer(7, false);
    }

    #[test]
    fn stream_mode_keeps_the_bytes() {
        transfer(5, true);
    }

    #[test]
    fn header_is_little_endian_reference_layout() {
        let mut a = Kcp::new(0x0102_0304);
        a.send(b"hi").unwrap();
        a.update(1000);
        let out = a.take_output();
        assert_eq!(out.len(), 1);
        let d = &out[0];
        assert_eq!(&d[0..4], &[4, 3, 2, 1]);
        assert_eq!(d[4], CMD_PUSH);
        assert_eq!(d[5], 0);
        assert_eq!(u16::from_le_bytes([d[6], d[7]]), 128);
        assert_eq!(u32::from_le_bytes(d[8..12].try_into().unwrap()), 1000);
        assert_eq!(u32::from_le_bytes(d[12..16].try_into().unwrap()), 0);
        assert_eq!(u32::from_le_bytes(d[20..24].try_into().unwrap()), 2);
        assert_eq!(&d[24..], b"hi");
    }

    #[test]
    fn bad_input_is_refused() {
        let mut a = Kcp::new(1);
        assert_eq!(a.input(&[0; 10]), Err(InputError::Truncated));
        let mut seg = [0u8; 24];
        seg[0] = 2;
        assert_eq!(a.input(&seg), Err(InputError::WrongConv(2)));
        seg[0] = 1;
        seg[4] = 99;
        assert_eq!(a.input(&seg), Err(InputError::BadCommand(99)));
        seg[4] = CMD_PUSH;
        seg[20] = 5; // claims 5 bytes, has none
        assert_eq!(a.input(&seg), Err(InputError::Truncated));
        assert!(a.send(&[]).is_err());
        assert!(a.send(&vec![0; a.max_message() + 1]).is_err());
        assert!(a.send(&vec![0; a.max_message()]).is_ok());
    }

    #[test]
    fn an_unanswered_link_dies() {
        let mut a = Kcp::new(1);
        a.set_nodelay(1, 10, 2, true);
        a.set_dead_link(5);
        a.send(b"x").unwrap();
        let mut now = 0;
        while !a.is_dead() && now < 1_000_000 {
            a.update(now);
            a.take_output();
            now += 10;
        }
        assert!(a.is_dead());
    }

    /// The receiver's window fills (nobody reads), then reopens; the first "window open" WINS
    /// is lost on the wire: a repeat still reaches the sender, which sends again long before
    /// its own window probe would have asked.
    #[test]
    fn a_lost_window_update_is_repeated() {
        let mut a = Kcp::new(7);
        let mut b = Kcp::new(7);
        for k in [&mut a, &mut b] {
            k.set_nodelay(1, 10, 2, true);
            k.set_windows(256, 128); // 128: the reference's smallest receive window
        }
        for i in 0..300u32 {
            a.send(&i.to_le_bytes()).unwrap();
        }
        let mut now = 0;
        // Deliver everything until the sender knows b's window is closed.
        for _ in 0..100 {
            a.update(now);
            b.update(now);
            for d in a.take_output() {
                b.input(&d).unwrap();
            }
            for d in b.take_output() {
                a.input(&d).unwrap();
            }
            now += 10;
        }
        assert_eq!(a.rmt_wnd, 0, "b's window is closed");
        // b's application reads everything queued: its window reopens.
        let mut got = 0;
        while b.recv().is_some() {
            got += 1;
        }
        assert!(got > 0);
        b.update(now);
        let first: Vec<_> = b.take_output();
        assert!(first.iter().any(|d| d[4] == CMD_WINS), "the first tell");
        // The repeats are work to do: a caller sleeping while idle must not sleep through them.
        assert!(!b.is_idle(), "repeats pending, yet b counts itself idle");
        // ...which the wire loses. The next flushes repeat it.
        let mut delivered = false;
        for _ in 0..10 {
            now += 10;
            a.update(now);
            b.update(now);
            for d in b.take_output() {
                if d[4] == CMD_WINS {
                    delivered = true;
                }
                a.input(&d).unwrap();
            }
            for d in a.take_output() {
                b.input(&d).unwrap();
            }
        }
        assert!(delivered, "a repeated WINS went out");
        while b.recv().is_some() {
            got += 1;
        }
        assert!(
            got > 128,
            "more messages arrived after the window reopened: {got}"
        );
    }
}
