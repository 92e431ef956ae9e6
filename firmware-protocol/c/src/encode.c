/* Payloads [FP-5.*] and frames [FP-2.2], [FP-3.1]. Keys are written in ascending order and
 * optional fields only when present, so the bytes match every other encoder [FP-4.4]. */
#include "iotp.h"

static void text(iotp_writer *w, uint64_t key, iotp_str s) {
  iotp_w_uint(w, key);
  iotp_w_text(w, s.ptr, s.len);
}

static void uint_field(iotp_writer *w, uint64_t key, uint64_t v) {
  iotp_w_uint(w, key);
  iotp_w_uint(w, v);
}

static void sensor(iotp_writer *w, const iotp_sensor *s) {
  iotp_w_map(w, 2u + (s->has_unit ? 1u : 0u) + (s->has_scale ? 1u : 0u));
  uint_field(w, 0, s->alias);
  text(w, 1, s->name);
  if (s->has_unit) text(w, 2, s->unit);
  if (s->has_scale) {
    if (s->scale < -12 || s->scale > 12) w->err = 1;
    iotp_w_uint(w, 3);
    iotp_w_int(w, s->scale);
  }
}

static void data(iotp_writer *w, const iotp_data *d) {
  size_t i;
  iotp_w_map(w, 1u + (d->has_uptime ? 1u : 0u) + (d->has_time ? 1u : 0u));
  if (d->has_uptime) uint_field(w, 0, d->uptime);
  if (d->has_time) uint_field(w, 1, d->time);
  if (d->count > IOTP_MAX_READINGS) w->err = 1;
  iotp_w_uint(w, 2);
  iotp_w_map(w, d->count);
  for (i = 0; i < d->count; i++) {
    /* A map: aliases strictly ascending, so each appears once [FP-5.4]. */
    if (i > 0 && d->items[i].alias <= d->items[i - 1].alias) w->err = 1;
    iotp_w_uint(w, d->items[i].alias);
    iotp_w_int(w, d->items[i].value);
  }
}

static void command(iotp_writer *w, const iotp_command *c, int result) {
  unsigned n = 2u + (c->value ? 1u : 0u) + (result && c->has_message ? 1u : 0u);
  iotp_w_map(w, n);
  uint_field(w, 0, c->id);
  if (!result) {
    text(w, 1, c->name);
  } else {
    uint_field(w, 1, c->status);
    if (c->has_message) text(w, 2, c->message);
  }
  if (c->value) {
    iotp_w_uint(w, result ? 3u : 2u);
    iotp_w_raw(w, c->value, c->value_len);
  }
}

int iotp_encode_payload(iotp_writer *w, const iotp_message *m) {
  size_t i;
  switch (m->type) {
    case IOTP_HELLO: {
      const iotp_hello *h = &m->u.hello;
      iotp_w_map(w, h->has_max_frame ? 4u : 3u);
      text(w, 0, h->device_id);
      text(w, 1, h->firmware);
      uint_field(w, 2, h->capabilities);
      if (h->has_max_frame) {
        if (h->max_frame < IOTP_DEFAULT_MAX_FRAME) w->err = 1;
        uint_field(w, 3, h->max_frame);
      }
      break;
    }
    case IOTP_DESCRIBE:
      iotp_w_map(w, 1);
      iotp_w_uint(w, 0);
      iotp_w_array(w, m->u.describe.count);
      for (i = 0; i < m->u.describe.count; i++) sensor(w, &m->u.describe.items[i]);
      break;
    case IOTP_DATA:
      data(w, &m->u.data);
      break;
    case IOTP_ACK:
      iotp_w_map(w, m->u.ack.has_selective ? 3u : 2u);
      uint_field(w, 0, m->u.ack.session);
      uint_field(w, 1, m->u.ack.cumulative);
      if (m->u.ack.has_selective) uint_field(w, 2, m->u.ack.selective);
      break;
    case IOTP_TIME_REQUEST:
      iotp_w_map(w, 1);
      uint_field(w, 0, m->u.time.uptime);
      break;
    case IOTP_TIME_RESPONSE:
      iotp_w_map(w, 3);
      uint_field(w, 0, m->u.time.uptime);
      uint_field(w, 1, m->u.time.received);
      uint_field(w, 2, m->u.time.sent);
      break;
    case IOTP_ERROR: {
      const iotp_error_msg *e = &m->u.error;
      iotp_w_map(w, 1u + (e->has_message ? 1u : 0u) + (e->has_seq ? 1u : 0u));
      uint_field(w, 0, e->code);
      if (e->has_message) text(w, 1, e->message);
      if (e->has_seq) uint_field(w, 2, e->seq);
      break;
    }
    case IOTP_LOG:
      iotp_w_map(w, m->u.log.has_uptime ? 3u : 2u);
      uint_field(w, 0, m->u.log.level);
      text(w, 1, m->u.log.message);
      if (m->u.log.has_uptime) uint_field(w, 2, m->u.log.uptime);
      break;
    case IOTP_COMMAND:
    case IOTP_COMMAND_RESULT:
      command(w, &m->u.command, m->type == IOTP_COMMAND_RESULT);
      break;
    default:
      w->err = 1;
  }
  return w->err ? -1 : 0;
}

/* Largest unframed frame whose wire form (COBS + 0x00) fits in cap bytes. */
static size_t max_raw(size_t cap) {
  size_t n;
  if (cap < 2u) return 0;
  n = cap - 2u;
  while (n > 0 && IOTP_COBS_MAX(n) + 1u > cap) n--;
  return n > IOTP_MAX_FRAME_LIMIT ? IOTP_MAX_FRAME_LIMIT : n;
}

iotp_writer *iotp_frame_begin(iotp_frame_builder *fb, uint8_t *buf, size_t cap, const iotp_header *h) {
  size_t n = max_raw(cap);
  uint8_t *raw;
  fb->buf = buf;
  fb->cap = cap;
  /* The frame is built at an offset so that COBS can encode it in place. */
  fb->off = 1u + n / 254u;
  if (n < IOTP_MIN_FRAME) {
    iotp_w_init(&fb->w, buf, 0);
    fb->w.err = 1;
    return &fb->w;
  }
  raw = buf + fb->off;
  raw[0] = h->version;
  raw[1] = h->flags;
  raw[2] = h->type;
  raw[3] = (uint8_t)h->seq;
  raw[4] = (uint8_t)(h->seq >> 8);
  raw[5] = (uint8_t)h->session;
  raw[6] = (uint8_t)(h->session >> 8);
  raw[7] = (uint8_t)(h->session >> 16);
  raw[8] = (uint8_t)(h->session >> 24);
  iotp_w_init(&fb->w, raw + IOTP_HEADER_SIZE, n - IOTP_MIN_FRAME);
  return &fb->w;
}

size_t iotp_frame_end(iotp_frame_builder *fb) {
  uint8_t *raw = fb->buf + fb->off;
  size_t n;
  size_t enc;
  uint32_t crc;
  if (fb->w.err) return 0;
  n = IOTP_HEADER_SIZE + fb->w.len;
  crc = iotp_crc32(raw, n);
  raw[n++] = (uint8_t)crc;
  raw[n++] = (uint8_t)(crc >> 8);
  raw[n++] = (uint8_t)(crc >> 16);
  raw[n++] = (uint8_t)(crc >> 24);
  enc = iotp_cobs_encode(raw, n, fb->buf, fb->cap - 1u);
  if (enc == 0) return 0;
  fb->buf[enc] = 0;
  return enc + 1u;
}

size_t iotp_encode_frame(const iotp_header *h, const iotp_message *m, uint8_t *buf, size_t cap) {
  iotp_frame_builder fb;
  iotp_writer *w = iotp_frame_begin(&fb, buf, cap, h);
  if (iotp_encode_payload(w, m) != 0) return 0;
  return iotp_frame_end(&fb);
}
