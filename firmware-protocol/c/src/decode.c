/* Frame checks in the order of [FP-3.10] and typed payloads [FP-5.*]: fields are checked in
 * key order, unknown keys are ignored [FP-5.1], the first failing check is reported. */
#include "fields.h"

#define SAFE_MAX IOTP_SAFE_MAX

static int sensor_entry(iotp_ctx *c, size_t pos, iotp_sensor *s, iotp_item *map) {
  uint64_t u = 0;
  int r;
  iotp_item_at(c->b, c->len, pos, map);
  if (map->major != 5u) return iotp_pfail(c, W_P_MAP, 0);
  if (iotp_get_uint(c, map, 0, "alias", 1, 0xFFFFu, 0, &u) < 0) return -1;
  s->alias = (uint16_t)u;
  if (iotp_get_text(c, map, 1, "name", 1, K_ID, &s->name) < 0) return -1;
  r = iotp_get_text(c, map, 2, "unit", 0, K_UNIT, &s->unit);
  if (r < 0) return -1;
  s->has_unit = (uint8_t)r;
  {
    iotp_item v;
    s->has_scale = 0;
    s->scale = 0;
    if (iotp_find(c, map, 3, &v)) {
      int64_t x;
      if (v.major != 0u && v.major != 1u) return iotp_pfail(c, W_P_INT, "scale");
      x = iotp_int_value(&v);
      if (x < -12 || x > 12) return iotp_pfail(c, W_P_RANGE, "scale");
      s->scale = (int8_t)x;
      s->has_scale = 1;
    }
  }
  return 0;
}

static int describe(iotp_ctx *c, const iotp_item *top, iotp_describe *d) {
  iotp_item list;
  size_t pos;
  uint64_t i;
  if (!iotp_find(c, top, 0, &list)) return iotp_pfail(c, W_P_MISSING, "sensors");
  if (list.major != 4u) return iotp_pfail(c, W_P_ARRAY, "sensors");
  if (list.arg > IOTP_MAX_SENSORS) return iotp_pfail(c, W_P_RANGE, "sensors");
  d->items = 0;
  d->count = (size_t)list.arg;
  d->cbor = c->b + list.at;
  d->cbor_len = list.end - list.at;
  c->field = "sensors";
  pos = list.data;
  for (i = 0; i < list.arg; i++) {
    iotp_sensor s;
    iotp_item map;
    size_t before = list.data;
    uint64_t j;
    c->index = (int32_t)i;
    if (sensor_entry(c, pos, &s, &map) != 0) return -1;
    /* At most IOTP_MAX_SENSORS entries, so comparing with every earlier alias stays cheap. */
    for (j = 0; j < i; j++) {
      iotp_item pm;
      iotp_item alias;
      iotp_item_at(c->b, c->len, before, &pm);
      if (iotp_find(c, &pm, 0, &alias) && alias.arg == s.alias) return iotp_pfail(c, W_P_DUPLICATE_ALIAS, "alias");
      before = pm.end;
    }
    pos = map.end;
  }
  return 0;
}

static int data(iotp_ctx *c, const iotp_item *top, iotp_data *d) {
  iotp_item map;
  size_t pos;
  uint64_t i;
  int r;
  r = iotp_get_uint(c, top, 0, "uptime", 0, SAFE_MAX, 0, &d->uptime);
  if (r < 0) return -1;
  d->has_uptime = (uint8_t)r;
  r = iotp_get_uint(c, top, 1, "time", 0, SAFE_MAX, 0, &d->time);
  if (r < 0) return -1;
  d->has_time = (uint8_t)r;
  if (!iotp_find(c, top, 2, &map)) return iotp_pfail(c, W_P_MISSING, "readings");
  if (map.major != 5u) return iotp_pfail(c, W_P_MAP, "readings");
  if (map.arg > IOTP_MAX_READINGS) return iotp_pfail(c, W_P_RANGE, "readings");
  d->items = 0;
  d->count = (size_t)map.arg;
  d->cbor = c->b + map.at;
  d->cbor_len = map.end - map.at;
  c->field = "readings";
  pos = map.data;
  for (i = 0; i < map.arg; i++) {
    iotp_item k;
    iotp_item v;
    c->index = (int32_t)i;
    iotp_item_at(c->b, c->len, pos, &k);
    iotp_item_at(c->b, c->len, k.end, &v);
    if (k.major != 0u) return iotp_pfail(c, W_P_UINT, "alias");
    if (k.arg > 0xFFFFu) return iotp_pfail(c, W_P_RANGE, "alias");
    if (v.major != 0u && v.major != 1u) return iotp_pfail(c, W_P_INT, "value");
    pos = v.end;
  }
  return 0;
}

static int command(iotp_ctx *c, const iotp_item *top, iotp_command *m, int result) {
  uint64_t u = 0;
  int r;
  iotp_item v;
  m->value = 0;
  m->value_len = 0;
  m->has_message = 0;
  m->status = 0;
  m->name.ptr = 0;
  m->name.len = 0;
  if (iotp_get_uint(c, top, 0, "id", 1, 0xFFFFFFFFu, 0, &u) < 0) return -1;
  m->id = (uint32_t)u;
  if (!result) {
    if (iotp_get_text(c, top, 1, "name", 1, K_ID, &m->name) < 0) return -1;
    if (iotp_find(c, top, 2, &v)) {
      if (v.major != 5u) return iotp_pfail(c, W_P_MAP, "args");
      if (iotp_json_like(c, &v, "args") != 0) return -1;
      m->value = c->b + v.at;
      m->value_len = v.end - v.at;
    }
    return 0;
  }
  if (iotp_get_uint(c, top, 1, "status", 1, 255u, 0, &u) < 0) return -1;
  m->status = (uint8_t)u;
  r = iotp_get_text(c, top, 2, "message", 0, K_TEXT, &m->message);
  if (r < 0) return -1;
  m->has_message = (uint8_t)r;
  if (iotp_find(c, top, 3, &v)) {
    if (iotp_json_like(c, &v, "result") != 0) return -1;
    m->value = c->b + v.at;
    m->value_len = v.end - v.at;
  }
  return 0;
}

static int body(iotp_ctx *c, uint8_t type, const iotp_item *top, iotp_message *m) {
  uint64_t u = 0;
  int r;
  switch (type) {
    case IOTP_HELLO:
      if (iotp_get_text(c, top, 0, "deviceId", 1, K_ID, &m->u.hello.device_id) < 0) return -1;
      if (iotp_get_text(c, top, 1, "firmware", 1, K_PRINT, &m->u.hello.firmware) < 0) return -1;
      if (iotp_get_uint(c, top, 2, "capabilities", 1, 0xFFFFFFFFu, 0, &u) < 0) return -1;
      m->u.hello.capabilities = (uint32_t)u;
      r = iotp_get_uint(c, top, 3, "maxFrame", 0, 65535u, 254u, &u);
      if (r < 0) return -1;
      m->u.hello.has_max_frame = (uint8_t)r;
      m->u.hello.max_frame = (uint16_t)(r ? u : 0u);
      return 0;
    case IOTP_DESCRIBE:
      return describe(c, top, &m->u.describe);
    case IOTP_DATA:
      return data(c, top, &m->u.data);
    case IOTP_ACK:
      if (iotp_get_uint(c, top, 0, "session", 1, 0xFFFFFFFFu, 0, &u) < 0) return -1;
      m->u.ack.session = (uint32_t)u;
      if (iotp_get_uint(c, top, 1, "cumulative", 1, 0xFFFFu, 0, &u) < 0) return -1;
      m->u.ack.cumulative = (uint16_t)u;
      r = iotp_get_uint(c, top, 2, "selective", 0, 0xFFFFFFFFu, 0, &u);
      if (r < 0) return -1;
      m->u.ack.has_selective = (uint8_t)r;
      m->u.ack.selective = (uint32_t)(r ? u : 0u);
      return 0;
    case IOTP_TIME_REQUEST:
      return iotp_get_uint(c, top, 0, "uptime", 1, SAFE_MAX, 0, &m->u.time.uptime) < 0 ? -1 : 0;
    case IOTP_TIME_RESPONSE:
      if (iotp_get_uint(c, top, 0, "uptime", 1, SAFE_MAX, 0, &m->u.time.uptime) < 0) return -1;
      if (iotp_get_uint(c, top, 1, "received", 1, SAFE_MAX, 0, &m->u.time.received) < 0) return -1;
      return iotp_get_uint(c, top, 2, "sent", 1, SAFE_MAX, 0, &m->u.time.sent) < 0 ? -1 : 0;
    case IOTP_ERROR:
      if (iotp_get_uint(c, top, 0, "code", 1, 0xFFFFu, 0, &u) < 0) return -1;
      m->u.error.code = (uint16_t)u;
      r = iotp_get_text(c, top, 1, "message", 0, K_TEXT, &m->u.error.message);
      if (r < 0) return -1;
      m->u.error.has_message = (uint8_t)r;
      r = iotp_get_uint(c, top, 2, "seq", 0, 0xFFFFu, 0, &u);
      if (r < 0) return -1;
      m->u.error.has_seq = (uint8_t)r;
      m->u.error.seq = (uint16_t)(r ? u : 0u);
      return 0;
    case IOTP_LOG:
      if (iotp_get_uint(c, top, 0, "level", 1, 7u, 0, &u) < 0) return -1;
      m->u.log.level = (uint8_t)u;
      if (iotp_get_text(c, top, 1, "message", 1, K_TEXT, &m->u.log.message) < 0) return -1;
      r = iotp_get_uint(c, top, 2, "uptime", 0, SAFE_MAX, 0, &m->u.log.uptime);
      if (r < 0) return -1;
      m->u.log.has_uptime = (uint8_t)r;
      return 0;
    default:
      return command(c, top, &m->u.command, type == IOTP_COMMAND_RESULT);
  }
}

int iotp_decode_payload(uint8_t type, const uint8_t *p, size_t len, iotp_message *m, iotp_fail *why) {
  iotp_ctx c;
  iotp_item top;
  if (iotp_cbor_check(p, len, why) != 0) return why->code;
  c.b = p;
  c.len = len;
  c.why = why;
  c.field = 0;
  c.index = -1;
  m->type = type;
  iotp_item_at(p, len, 0, &top);
  if (top.major != 5u) return iotp_pfail(&c, W_P_MAP, 0), IOTP_PAYLOAD_INVALID;
  if (body(&c, type, &top, m) != 0) return IOTP_PAYLOAD_INVALID;
  return IOTP_OK;
}

static int ffail(iotp_fail *f, uint8_t code, uint8_t what, uint32_t a, uint32_t b) {
  f->code = code;
  f->what = what;
  f->index = -1;
  f->field = 0;
  f->sub = 0;
  f->a = a;
  f->b = b;
  return code;
}

int iotp_decode_frame(const uint8_t *raw, size_t len, size_t max_frame, iotp_header *h,
                      int *header_ok, iotp_message *m, iotp_fail *why) {
  uint32_t crc;
  uint32_t stated;
  size_t body_end;
  *header_ok = 0;
  if (len > max_frame) return ffail(why, IOTP_FRAME_TOO_LONG, W_TOO_LONG, (uint32_t)len, (uint32_t)max_frame);
  if (len < IOTP_MIN_FRAME) return ffail(why, IOTP_TRUNCATED, W_SHORT, (uint32_t)len, IOTP_MIN_FRAME);
  body_end = len - IOTP_CRC_SIZE;
  crc = iotp_crc32(raw, body_end);
  stated = (uint32_t)raw[body_end] | ((uint32_t)raw[body_end + 1] << 8) |
           ((uint32_t)raw[body_end + 2] << 16) | ((uint32_t)raw[body_end + 3] << 24);
  if (crc != stated) return ffail(why, IOTP_CRC_MISMATCH, W_CRC, crc, stated);
  h->version = raw[0];
  h->flags = raw[1];
  h->type = raw[2];
  h->seq = (uint16_t)(raw[3] | (raw[4] << 8));
  h->session = (uint32_t)raw[5] | ((uint32_t)raw[6] << 8) | ((uint32_t)raw[7] << 16) | ((uint32_t)raw[8] << 24);
  if (h->version != IOTP_VERSION) return ffail(why, IOTP_UNSUPPORTED_VERSION, W_VERSION, h->version, IOTP_VERSION);
  if (h->flags & IOTP_FLAGS_MUST_UNDERSTAND) {
    return ffail(why, IOTP_UNSUPPORTED_FLAGS, W_FLAGS, h->flags & IOTP_FLAGS_MUST_UNDERSTAND, 0);
  }
  *header_ok = 1;
  if (h->type < IOTP_HELLO || h->type > IOTP_COMMAND_RESULT) return ffail(why, IOTP_UNKNOWN_TYPE, W_TYPE, h->type, 0);
  return iotp_decode_payload(h->type, raw + IOTP_HEADER_SIZE, body_end - IOTP_HEADER_SIZE, m, why);
}

void iotp_sensors_begin(const iotp_describe *d, iotp_iter *it) {
  iotp_item list;
  it->b = d->cbor;
  it->len = d->cbor_len;
  it->pos = 0;
  it->left = 0;
  if (!d->cbor) return;
  iotp_item_at(d->cbor, d->cbor_len, 0, &list);
  it->pos = list.data;
  it->left = (size_t)list.arg;
}

int iotp_sensors_next(iotp_iter *it, iotp_sensor *out) {
  iotp_ctx c;
  iotp_item map;
  iotp_fail why;
  if (it->left == 0) return 0;
  c.b = it->b;
  c.len = it->len;
  c.why = &why;
  c.field = "sensors";
  c.index = 0;
  (void)sensor_entry(&c, it->pos, out, &map);
  it->pos = map.end;
  it->left--;
  return 1;
}

void iotp_readings_begin(const iotp_data *d, iotp_iter *it) {
  iotp_item map;
  it->b = d->cbor;
  it->len = d->cbor_len;
  it->pos = 0;
  it->left = 0;
  if (!d->cbor) return;
  iotp_item_at(d->cbor, d->cbor_len, 0, &map);
  it->pos = map.data;
  it->left = (size_t)map.arg;
}

int iotp_readings_next(iotp_iter *it, iotp_reading *out) {
  iotp_item k;
  iotp_item v;
  if (it->left == 0) return 0;
  iotp_item_at(it->b, it->len, it->pos, &k);
  iotp_item_at(it->b, it->len, k.end, &v);
  out->alias = (uint16_t)k.arg;
  out->value = iotp_int_value(&v);
  it->pos = v.end;
  it->left--;
  return 1;
}

int iotp_sensor_at(const iotp_describe *d, size_t index, iotp_sensor *out) {
  iotp_iter it;
  size_t i;
  iotp_sensors_begin(d, &it);
  for (i = 0; iotp_sensors_next(&it, out); i++) {
    if (i == index) return 0;
  }
  return -1;
}

int iotp_reading_at(const iotp_data *d, size_t index, iotp_reading *out) {
  iotp_iter it;
  size_t i;
  iotp_readings_begin(d, &it);
  for (i = 0; iotp_readings_next(&it, out); i++) {
    if (i == index) return 0;
  }
  return -1;
}
