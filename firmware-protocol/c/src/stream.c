/* Streaming decoder [FP-2.3]..[FP-2.8] and sequence tracking [FP-6.1], [FP-6.2]. */
#include "cbor_read.h"

#define SEQ_WINDOW 32u

int iotp_seq_track(iotp_seq_tracker *t, uint32_t session, uint16_t seq, iotp_counters *c,
                   uint16_t *missing) {
  uint16_t ahead;
  uint16_t behind;
  uint32_t bit;
  *missing = 0;
  if (!t->started || session != t->session) {
    t->started = 1;
    t->session = session;
    t->highest = seq;
    t->window = 1;
    t->span = 1;
    c->sessions++;
    return IOTP_SEQ_FIRST;
  }
  ahead = (uint16_t)(seq - t->highest);
  if (ahead == 0) {
    c->duplicates++;
    return IOTP_SEQ_DUPLICATE;
  }
  behind = (uint16_t)(t->highest - seq);
  if (behind >= SEQ_WINDOW) {
    /* Anything not within the window behind is ahead, even after a long outage. */
    t->window = ahead >= SEQ_WINDOW ? 1u : ((t->window << ahead) | 1u);
    t->span = (uint8_t)(t->span + ahead >= SEQ_WINDOW ? SEQ_WINDOW : t->span + ahead);
    t->highest = seq;
    if (ahead == 1u) return IOTP_SEQ_NEXT;
    c->gaps++;
    c->lost += ahead - 1u;
    *missing = (uint16_t)(ahead - 1u);
    return IOTP_SEQ_GAP;
  }
  bit = 1u << behind;
  if (t->window & bit) {
    c->duplicates++;
    return IOTP_SEQ_DUPLICATE;
  }
  t->window |= bit;
  c->recovered++;
  return IOTP_SEQ_LATE;
}

int iotp_seq_ack(const iotp_seq_tracker *t, iotp_ack *out) {
  unsigned oldest = 0;
  unsigned i;
  if (!t->started) return -1;
  for (i = t->span - 1u; i >= 1u; i--) {
    if (!(t->window & (1u << i))) {
      oldest = i;
      break;
    }
  }
  out->session = t->session;
  out->cumulative = (uint16_t)(t->highest - oldest - (oldest ? 1u : 0u));
  out->selective = 0;
  out->has_selective = oldest ? 1u : 0u;
  for (i = 1; i <= oldest; i++) {
    if (t->window & (1u << (oldest - i))) out->selective |= 1u << i;
  }
  return 0;
}

int iotp_decoder_init(iotp_decoder *d, uint8_t *buf, size_t cap, size_t max_frame,
                      iotp_handler handler, void *ctx) {
  size_t i;
  uint8_t *z = (uint8_t *)d;
  for (i = 0; i < sizeof *d; i++) z[i] = 0;
  if (max_frame < IOTP_MIN_FRAME || max_frame > IOTP_MAX_FRAME_LIMIT || cap < IOTP_RX_BUF(max_frame)) {
    return -1;
  }
  d->max_frame = max_frame;
  d->max_encoded = IOTP_COBS_MAX(max_frame);
  d->enc = buf;
  d->dec = buf + d->max_encoded;
  d->handler = handler;
  d->ctx = ctx;
  return 0;
}

static void fail_frame(iotp_fail *f, uint8_t code, uint8_t what, uint32_t a, uint32_t b) {
  f->code = code;
  f->what = what;
  f->index = -1;
  f->field = 0;
  f->sub = 0;
  f->a = a;
  f->b = b;
}

static void finish(iotp_decoder *d, int at_end) {
  iotp_event ev;
  iotp_counters *c = &d->counters;
  size_t err_at;
  size_t i;
  uint8_t *z = (uint8_t *)&ev;
  for (i = 0; i < sizeof ev; i++) z[i] = 0;
  ev.offset = d->start;
  ev.raw = d->enc;
  ev.raw_len = d->len;
  ev.length = d->total;
  d->len = 0;
  d->total = 0;
  if (ev.length > d->max_encoded) {
    fail_frame(&ev.fail, IOTP_FRAME_TOO_LONG, W_TOO_LONG_ENCODED, ev.length, (uint32_t)d->max_encoded);
  } else if (at_end) {
    fail_frame(&ev.fail, IOTP_TRUNCATED, W_END_OF_STREAM, ev.length, 0);
  } else {
    err_at = iotp_cobs_decode(d->enc, ev.raw_len, d->dec, &ev.bytes_len);
    if (err_at) {
      fail_frame(&ev.fail, IOTP_COBS_INVALID, W_COBS, (uint32_t)(err_at - 1u), 0);
    } else {
      ev.bytes = d->dec;
      if (iotp_decode_frame(d->dec, ev.bytes_len, d->max_frame, &ev.header, &ev.header_ok, &ev.msg,
                            &ev.fail) == IOTP_OK) {
        ev.ok = 1;
        c->frames++;
      }
      if (ev.header_ok) ev.status = iotp_seq_track(&d->tracker, ev.header.session, ev.header.seq, c, &ev.missing);
    }
  }
  if (!ev.ok) {
    c->rejected++;
    c->errors[ev.fail.code]++;
  }
  if (d->handler) d->handler(d->ctx, &ev);
}

void iotp_decoder_push(iotp_decoder *d, const uint8_t *data, size_t len) {
  size_t i;
  d->counters.bytes += (uint32_t)len;
  for (i = 0; i < len; i++) {
    uint8_t b = data[i];
    if (b == 0) {
      if (d->total > 0) finish(d, 0);
      continue;
    }
    if (d->total == 0) d->start = d->counters.bytes - (uint32_t)(len - i);
    if (d->len < d->max_encoded) d->enc[d->len++] = b;
    if (d->total < 0xFFFFFFFFu) d->total++;
  }
}

void iotp_decoder_end(iotp_decoder *d) {
  if (d->total > 0) finish(d, 1);
}
