// iot-stream wire protocol on an Arduino-class board (Uno, Nano, SAMD21, RP2040...).
//
// Sends hello and describe at boot and after every hello from the gateway, then a data frame
// every `interval` ms with a temperature (thermistor on A0, scaled by 10) and a light level
// (A1). Understands two commands: "set-interval" {"ms": N} and "describe".
//
// Build: copy c/include/iotp.h, c/src/{crc32,cobs,cbor_write,encode,cbor_read,fields,decode,
// stream}.c and c/src/{cbor_read,fields}.h into this sketch's folder (reason.c is not needed:
// it only formats error texts). Flash use: see firmware-protocol/README.md. Not compiled by the tests.

#include "iotp.h"

static uint8_t tx[IOTP_TX_BUF(IOTP_DEFAULT_MAX_FRAME)];
static uint8_t rx[IOTP_RX_BUF(IOTP_DEFAULT_MAX_FRAME)];
static iotp_decoder decoder;
static iotp_header header;
static unsigned long interval = 1000;
static unsigned long last_sent = 0;

static const iotp_sensor sensors[] = {
    {1, {"temperature", 11}, {"Cel", 3}, -1, 1, 1},
    {2, {"light", 5}, {"%", 1}, 0, 1, 0},
};

// Writes one message as the next frame of this session [FP-3.6].
static void send(uint8_t type, const iotp_message *m, uint8_t flags) {
  header.type = type;
  header.flags = flags;
  size_t n = iotp_encode_frame(&header, m, tx, sizeof tx);
  if (n > 0) {
    Serial.write(tx, n);
    header.seq++;
  }
}

static void send_hello_and_describe() {
  iotp_message m;
  m.type = IOTP_HELLO;
  m.u.hello.device_id.ptr = "uno-thermo-1";
  m.u.hello.device_id.len = 12;
  m.u.hello.firmware.ptr = "1.0.0";
  m.u.hello.firmware.len = 5;
  m.u.hello.capabilities = IOTP_CAP_COMMANDS;
  m.u.hello.has_max_frame = 0;
  send(IOTP_HELLO, &m, 0);
  m.type = IOTP_DESCRIBE;
  m.u.describe.items = sensors;
  m.u.describe.count = sizeof sensors / sizeof sensors[0];
  m.u.describe.cbor = 0;
  send(IOTP_DESCRIBE, &m, 0);
}

static void send_result(uint32_t id, uint8_t status) {
  iotp_message m;
  m.type = IOTP_COMMAND_RESULT;
  m.u.command.id = id;
  m.u.command.status = status;
  m.u.command.has_message = 0;
  m.u.command.value = 0;
  m.u.command.value_len = 0;
  send(IOTP_COMMAND_RESULT, &m, 0);
}

// "set-interval" carries {"ms": N}: canonical CBOR a1 62 6d 73 <uint>.
static bool read_interval(const iotp_command *c, unsigned long *ms) {
  const uint8_t *p = c->value;
  if (!p || c->value_len < 5 || p[0] != 0xA1 || p[1] != 0x62 || p[2] != 'm' || p[3] != 's') return false;
  uint8_t ib = p[4];
  if (ib < 24) *ms = ib;
  else if (ib == 0x19 && c->value_len >= 7) *ms = ((unsigned long)p[5] << 8) | p[6];
  else if (ib == 0x1A && c->value_len >= 9)
    *ms = ((unsigned long)p[5] << 24) | ((unsigned long)p[6] << 16) | ((unsigned long)p[7] << 8) | p[8];
  else return false;
  return *ms >= 100;
}

static bool named(const iotp_str &s, const char *name) {
  return s.len == strlen(name) && memcmp(s.ptr, name, s.len) == 0;
}

// Frames from the gateway [FP-5.2], [FP-5.9]. Rejected frames are simply ignored here.
static void on_frame(void *, const iotp_event *ev) {
  if (!ev->ok) return;
  if (ev->msg.type == IOTP_HELLO) {
    send_hello_and_describe();
  } else if (ev->msg.type == IOTP_COMMAND && ev->status != IOTP_SEQ_DUPLICATE) {
    const iotp_command *c = &ev->msg.u.command;
    unsigned long ms;
    if (named(c->name, "set-interval")) {
      if (read_interval(c, &ms)) {
        interval = ms;
        send_result(c->id, 0);
      } else {
        send_result(c->id, 2);
      }
    } else if (named(c->name, "describe")) {
      send_hello_and_describe();
      send_result(c->id, 0);
    } else {
      send_result(c->id, 1);
    }
  }
}

void setup() {
  Serial.begin(115200);
  // A per-boot session id [FP-3.7]: noise from a floating pin and the boot timing.
  uint32_t seed = micros();
  for (int i = 0; i < 32; i++) seed = (seed << 1) ^ (uint32_t)analogRead(A5) ^ micros();
  header.version = IOTP_VERSION;
  header.session = seed;
  header.seq = 0;
  iotp_decoder_init(&decoder, rx, sizeof rx, IOTP_DEFAULT_MAX_FRAME, on_frame, 0);
  Serial.write((uint8_t)0);  // resynchronise the receiver [FP-2.3]
  send_hello_and_describe();
}

void loop() {
  while (Serial.available() > 0) {
    uint8_t b = (uint8_t)Serial.read();
    iotp_decoder_push(&decoder, &b, 1);
  }
  unsigned long now = millis();
  if (now - last_sent < interval) return;
  last_sent = now;
  // A rough thermistor conversion to tenths of a degree; replace with the real sensor.
  long raw = analogRead(A0);
  iotp_reading readings[2] = {{1, 250 + (raw - 512) / 4}, {2, (long)analogRead(A1) * 100 / 1023}};
  iotp_message m;
  m.type = IOTP_DATA;
  m.u.data.has_uptime = 1;
  m.u.data.uptime = now;
  m.u.data.has_time = 0;
  m.u.data.items = readings;
  m.u.data.count = 2;
  m.u.data.cbor = 0;
  send(IOTP_DATA, &m, 0);
}
