/*
 * iotp: C99 reference of the iot-stream sensor wire protocol (firmware-protocol/SPEC.md).
 * No dynamic allocation: every buffer belongs to the caller. Requirement ids [FP-x.y] refer
 * to SPEC.md.
 */
#ifndef IOTP_H
#define IOTP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define IOTP_VERSION 1u
#define IOTP_HEADER_SIZE 9u
#define IOTP_CRC_SIZE 4u
#define IOTP_MIN_FRAME 13u          /* header + CRC [FP-3.9] */
#define IOTP_DEFAULT_MAX_FRAME 254u /* [FP-2.6] */
#define IOTP_MAX_FRAME_LIMIT 65535u /* [FP-6.4] */
#define IOTP_MAX_DEPTH 8u           /* [FP-4.7] */
#define IOTP_MAX_SENSORS 128u       /* per describe frame [FP-5.3] */
#define IOTP_MAX_READINGS 64u       /* per data frame [FP-5.4] */

#define IOTP_FLAGS_MUST_UNDERSTAND 0x0Fu /* [FP-3.3] */
#define IOTP_FLAG_ACK_REQUEST 0x10u      /* [FP-3.4] */
#define IOTP_FLAG_RETRANSMIT 0x20u

/* Largest COBS encoding of n bytes, without the delimiter [FP-2.1]. */
#define IOTP_COBS_MAX(n) ((n) + (n) / 254u + 1u)
/* Transmit buffer for frames of up to n bytes: COBS plus the 0x00 delimiter. */
#define IOTP_TX_BUF(n) (IOTP_COBS_MAX(n) + 1u)
/* Receive buffer for a decoder with maximum frame n: encoded and decoded copies. */
#define IOTP_RX_BUF(n) (2u * IOTP_COBS_MAX(n))

enum iotp_type {
  IOTP_HELLO = 1,
  IOTP_DESCRIBE = 2,
  IOTP_DATA = 3,
  IOTP_ACK = 4,
  IOTP_TIME_REQUEST = 5,
  IOTP_TIME_RESPONSE = 6,
  IOTP_ERROR = 7,
  IOTP_LOG = 8,
  IOTP_COMMAND = 9,
  IOTP_COMMAND_RESULT = 10
};

/* Codes of rejected frames, in the order of the counters [FP-6.8]. 0 means no error. */
enum iotp_code {
  IOTP_OK = 0,
  IOTP_TRUNCATED,
  IOTP_FRAME_TOO_LONG,
  IOTP_COBS_INVALID,
  IOTP_CRC_MISMATCH,
  IOTP_UNSUPPORTED_VERSION,
  IOTP_UNSUPPORTED_FLAGS,
  IOTP_UNKNOWN_TYPE,
  IOTP_CBOR_INVALID,
  IOTP_CBOR_NON_CANONICAL,
  IOTP_CBOR_UNSUPPORTED,
  IOTP_PAYLOAD_INVALID,
  IOTP_CODE_COUNT
};

/* Capability bits of hello [FP-5.2]. */
#define IOTP_CAP_RTC 0x01u
#define IOTP_CAP_COMMANDS 0x02u
#define IOTP_CAP_RETRANSMIT 0x04u
#define IOTP_CAP_TIME_SYNC 0x08u
#define IOTP_CAP_LOG 0x10u

/* ---- CRC-32 [FP-3.8] and COBS [FP-2.1] ---- */

uint32_t iotp_crc32_update(uint32_t crc, const uint8_t *data, size_t len);
uint32_t iotp_crc32(const uint8_t *data, size_t len);

/* Encodes len bytes into out (no delimiter); returns the length, 0 if cap is too small. */
size_t iotp_cobs_encode(const uint8_t *in, size_t len, uint8_t *out, size_t cap);
/* Decodes one frame (no 0x00 inside); out may equal in. Returns 0 or the offset + 1 of the
 * code byte whose block overruns the input; the length goes to *out_len. */
size_t iotp_cobs_decode(const uint8_t *in, size_t len, uint8_t *out, size_t *out_len);

/* ---- frame header [FP-3.1] ---- */

typedef struct {
  uint8_t version;
  uint8_t flags;
  uint8_t type;
  uint16_t seq;
  uint32_t session;
} iotp_header;

/* ---- deterministic CBOR writer [FP-4.*] ---- */

typedef struct {
  uint8_t *buf;
  size_t cap;
  size_t len;
  int err; /* set on overflow or a value outside the subset; sticky */
} iotp_writer;

void iotp_w_init(iotp_writer *w, uint8_t *buf, size_t cap);
void iotp_w_uint(iotp_writer *w, uint64_t v);
void iotp_w_int(iotp_writer *w, int64_t v);
void iotp_w_text(iotp_writer *w, const char *s, size_t len);
void iotp_w_bytes(iotp_writer *w, const uint8_t *data, size_t len);
void iotp_w_array(iotp_writer *w, size_t count);
void iotp_w_map(iotp_writer *w, size_t count);
void iotp_w_bool(iotp_writer *w, int v);
void iotp_w_null(iotp_writer *w);
/* Appends already encoded, canonical CBOR (e.g. command arguments). */
void iotp_w_raw(iotp_writer *w, const uint8_t *cbor, size_t len);

/* ---- messages [FP-5.*]: has_* flags mark optional fields ---- */

typedef struct {
  const char *ptr; /* not NUL-terminated when decoded: points into the frame */
  size_t len;
} iotp_str;

typedef struct {
  iotp_str device_id;
  iotp_str firmware;
  uint32_t capabilities;
  uint16_t max_frame;
  uint8_t has_max_frame;
} iotp_hello;

typedef struct {
  uint16_t alias;
  iotp_str name;
  iotp_str unit;
  int8_t scale;
  uint8_t has_unit;
  uint8_t has_scale;
} iotp_sensor;

typedef struct {
  uint16_t alias;
  int64_t value;
} iotp_reading;

/* Lists: the encoder reads `items`; the decoder sets `cbor` to the list inside the frame, to
 * be read with iotp_sensor_at / iotp_reading_at. */
typedef struct {
  const iotp_sensor *items;
  size_t count;
  const uint8_t *cbor;
  size_t cbor_len;
} iotp_describe;

typedef struct {
  uint64_t uptime;
  uint64_t time;
  uint8_t has_uptime;
  uint8_t has_time;
  const iotp_reading *items; /* sorted by alias, each alias once */
  size_t count;
  const uint8_t *cbor;
  size_t cbor_len;
} iotp_data;

typedef struct {
  uint32_t session;
  uint16_t cumulative;
  uint32_t selective;
  uint8_t has_selective;
} iotp_ack;

typedef struct {
  uint64_t uptime;
  uint64_t received;
  uint64_t sent;
} iotp_time; /* time request uses uptime only */

typedef struct {
  uint16_t code;
  uint16_t seq;
  iotp_str message;
  uint8_t has_message;
  uint8_t has_seq;
} iotp_error_msg;

typedef struct {
  uint8_t level;
  uint8_t has_uptime;
  iotp_str message;
  uint64_t uptime;
} iotp_log;

typedef struct {
  uint32_t id;
  uint8_t status; /* command result only */
  uint8_t has_message;
  iotp_str name;    /* command only */
  iotp_str message; /* command result only */
  const uint8_t *value; /* args (command) or result: canonical CBOR, NULL when absent */
  size_t value_len;
} iotp_command;

typedef struct {
  uint8_t type;
  union {
    iotp_hello hello;
    iotp_describe describe;
    iotp_data data;
    iotp_ack ack;
    iotp_time time;
    iotp_error_msg error;
    iotp_log log;
    iotp_command command;
  } u;
} iotp_message;

/* Writes the payload of m; returns 0 on success, -1 on overflow or invalid content. */
int iotp_encode_payload(iotp_writer *w, const iotp_message *m);

/* ---- frame encoding [FP-2.2], in place in one caller buffer ---- */

typedef struct {
  uint8_t *buf;
  size_t cap;
  size_t off; /* where the unframed frame starts inside buf */
  iotp_writer w; /* payload writer: use it between begin and end */
} iotp_frame_builder;

iotp_writer *iotp_frame_begin(iotp_frame_builder *fb, uint8_t *buf, size_t cap, const iotp_header *h);
/* Appends the CRC, COBS-encodes in place and appends 0x00: returns the wire length at buf[0],
 * or 0 if the frame did not fit. */
size_t iotp_frame_end(iotp_frame_builder *fb);
/* One call: header + message -> wire bytes in buf. Returns the length or 0. */
size_t iotp_encode_frame(const iotp_header *h, const iotp_message *m, uint8_t *buf, size_t cap);

/* ---- decoding [FP-3.10] ---- */

/* Why a frame was rejected; iotp_format_reason turns it into the text of SPEC.md §9. */
typedef struct {
  uint8_t code;  /* enum iotp_code */
  uint8_t what;  /* detail, see reason.c */
  int32_t index; /* list index for nested fields, or -1 */
  const char *field;
  const char *sub;
  uint32_t a, b; /* numbers quoted in the reason */
} iotp_fail;

/* Checks and decodes an unframed frame; returns IOTP_OK or a code with *why filled in.
 * *header_ok is set once CRC, version and flags were valid. */
int iotp_decode_frame(const uint8_t *raw, size_t len, size_t max_frame, iotp_header *h,
                      int *header_ok, iotp_message *m, iotp_fail *why);
/* Decodes a payload of a known type; strings and lists point into p. */
int iotp_decode_payload(uint8_t type, const uint8_t *p, size_t len, iotp_message *m, iotp_fail *why);
/* Entries of decoded lists (valid after a successful decode): iterate with begin/next (1 while
 * there is an entry, then 0), or pick one by index (0, or -1 past the end). */
typedef struct {
  const uint8_t *b;
  size_t len;
  size_t pos;
  size_t left;
} iotp_iter;

void iotp_sensors_begin(const iotp_describe *d, iotp_iter *it);
int iotp_sensors_next(iotp_iter *it, iotp_sensor *out);
void iotp_readings_begin(const iotp_data *d, iotp_iter *it);
int iotp_readings_next(iotp_iter *it, iotp_reading *out);
int iotp_sensor_at(const iotp_describe *d, size_t index, iotp_sensor *out);
int iotp_reading_at(const iotp_data *d, size_t index, iotp_reading *out);

const char *iotp_code_name(int code);
const char *iotp_type_name(int type);
/* Writes the reason as NUL-terminated text; returns its length (snprintf semantics). */
int iotp_format_reason(const iotp_fail *why, char *buf, size_t size);

/* ---- streaming decoder [FP-2.*], [FP-6.1] ---- */

enum iotp_seq_status { IOTP_SEQ_FIRST, IOTP_SEQ_NEXT, IOTP_SEQ_GAP, IOTP_SEQ_DUPLICATE, IOTP_SEQ_LATE };

typedef struct {
  uint32_t bytes, frames, rejected, sessions, gaps, lost, duplicates, recovered;
  uint32_t errors[IOTP_CODE_COUNT]; /* errors[0] unused */
} iotp_counters;

typedef struct {
  uint8_t started;
  uint8_t span; /* seqs of this session up to the highest, at most 32 */
  uint16_t highest;
  uint32_t session;
  uint32_t window; /* bit i: seq (highest - i) was received */
} iotp_seq_tracker;

/* Records one frame; returns an iotp_seq_status and, for a gap, the frames missing [FP-6.1]. */
int iotp_seq_track(iotp_seq_tracker *t, uint32_t session, uint16_t seq, iotp_counters *c,
                   uint16_t *missing);
/* The acknowledgement for what was received [FP-5.5]; -1 before the first frame. */
int iotp_seq_ack(const iotp_seq_tracker *t, iotp_ack *out);

typedef struct {
  int ok; /* 1: a frame; 0: rejected */
  uint32_t offset;
  int header_ok;
  iotp_header header;
  iotp_message msg;      /* when ok */
  const uint8_t *bytes;  /* the unframed frame, when COBS decoding succeeded */
  size_t bytes_len;
  const uint8_t *raw;    /* the encoded bytes as received (cut at the limit) */
  size_t raw_len;
  uint32_t length;       /* encoded length, including bytes past the limit */
  iotp_fail fail;        /* when rejected */
  int status;            /* enum iotp_seq_status, when the header was valid */
  uint16_t missing;
} iotp_event;

typedef void (*iotp_handler)(void *ctx, const iotp_event *ev);

typedef struct {
  uint8_t *enc;
  uint8_t *dec;
  size_t max_frame;
  size_t max_encoded;
  size_t len;
  uint32_t total;
  uint32_t start;
  iotp_counters counters;
  iotp_seq_tracker tracker;
  iotp_handler handler;
  void *ctx;
} iotp_decoder;

/* buf must hold IOTP_RX_BUF(max_frame) bytes. Returns 0, or -1 for a bad size. */
int iotp_decoder_init(iotp_decoder *d, uint8_t *buf, size_t cap, size_t max_frame,
                      iotp_handler handler, void *ctx);
void iotp_decoder_push(iotp_decoder *d, const uint8_t *data, size_t len);
/* End of stream: bytes after the last delimiter are reported as truncated [FP-2.8]. */
void iotp_decoder_end(iotp_decoder *d);

#ifdef __cplusplus
}
#endif

#endif /* IOTP_H */
