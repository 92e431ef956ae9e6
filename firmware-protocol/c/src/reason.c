/* Names and reason texts of rejected frames (SPEC.md §9). Uses snprintf, so firmware that only
 * needs codes can leave this file out. */
#include <stdio.h>

#include "cbor_read.h"

static const char *const code_names[IOTP_CODE_COUNT] = {
    "OK",           "TRUNCATED",   "FRAME_TOO_LONG",     "COBS_INVALID",
    "CRC_MISMATCH", "UNSUPPORTED_VERSION", "UNSUPPORTED_FLAGS", "UNKNOWN_TYPE",
    "CBOR_INVALID", "CBOR_NON_CANONICAL",  "CBOR_UNSUPPORTED",  "PAYLOAD_INVALID"};

static const char *const type_names[] = {0,         "hello",       "describe",     "data",
                                         "ack",     "timeRequest", "timeResponse", "error",
                                         "log",     "command",     "commandResult"};

const char *iotp_code_name(int code) {
  return code >= 0 && code < IOTP_CODE_COUNT ? code_names[code] : "UNKNOWN";
}

const char *iotp_type_name(int type) {
  return type >= IOTP_HELLO && type <= IOTP_COMMAND_RESULT ? type_names[type] : 0;
}

static const char *cbor_text(int what) {
  switch (what) {
    case W_END: return "unexpected end of input";
    case W_RESERVED: return "reserved additional information";
    case W_BREAK: return "unexpected break";
    case W_INDEFINITE: return "indefinite length";
    case W_FLOAT: return "floating-point number";
    case W_SIMPLE: return "simple value";
    case W_SHORTEST: return "non-shortest encoding";
    case W_RANGE: return "integer outside the safe range";
    case W_UTF8: return "invalid utf-8 in text string";
    case W_DEPTH: return "nesting deeper than 8";
    case W_KEY_TYPE: return "map key must be an unsigned integer or text";
    case W_DUPLICATE_KEY: return "duplicate map key";
    case W_KEY_ORDER: return "map keys out of order";
    case W_TRAILING: return "trailing bytes after the payload";
    case W_TAG: return "tag";
    default: return 0;
  }
}

static const char *shape_text(int what) {
  switch (what) {
    case W_P_MAP: return "expected a map";
    case W_P_ARRAY: return "expected an array";
    case W_P_UINT: return "expected an unsigned integer";
    case W_P_INT: return "expected an integer";
    case W_P_TEXT: return "expected text";
    case W_P_MISSING: return "missing";
    case W_P_RANGE: return "out of range";
    case W_P_INVALID_TEXT: return "invalid text";
    case W_P_DUPLICATE_ALIAS: return "duplicate alias";
    case W_P_UNSUPPORTED: return "unsupported value";
    default: return "invalid";
  }
}

int iotp_format_reason(const iotp_fail *f, char *buf, size_t size) {
  unsigned long a = f->a;
  unsigned long b = f->b;
  const char *t = cbor_text(f->what);
  if (t) return snprintf(buf, size, "cbor at byte %lu: %s", a, t);
  switch (f->what) {
    case W_TOO_LONG_ENCODED:
      return snprintf(buf, size, "frame of %lu encoded bytes exceeds the limit of %lu", a, b);
    case W_TOO_LONG: return snprintf(buf, size, "frame of %lu bytes exceeds the maximum of %lu", a, b);
    case W_SHORT: return snprintf(buf, size, "frame of %lu bytes is shorter than the minimum of %lu", a, b);
    case W_END_OF_STREAM: return snprintf(buf, size, "stream ended inside a frame after %lu bytes", a);
    case W_COBS: return snprintf(buf, size, "cobs block at byte %lu overruns the frame", a);
    case W_CRC: return snprintf(buf, size, "crc32 is 0x%08lx, frame says 0x%08lx", a, b);
    case W_VERSION: return snprintf(buf, size, "version %lu is not supported (expected %lu)", a, b);
    case W_FLAGS: return snprintf(buf, size, "must-understand flags 0x%02lx are not supported", a);
    case W_TYPE: return snprintf(buf, size, "message type %lu is unknown", a);
    default: break;
  }
  {
    char index[16] = "";
    if (f->index >= 0) snprintf(index, sizeof index, "[%ld]", (long)f->index);
    return snprintf(buf, size, "body%s%s%s%s%s: %s", f->field ? "." : "", f->field ? f->field : "",
                    index, f->sub ? "." : "", f->sub ? f->sub : "", shape_text(f->what));
  }
}
