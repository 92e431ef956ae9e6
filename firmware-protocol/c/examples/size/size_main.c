/* Smallest realistic users of the library, linked for a Cortex-M0+ by `make size` to measure
 * flash and RAM after --gc-sections (libgcc helpers included, no libc). */
#include "iotp.h"

volatile uint8_t sink;
volatile uint8_t source;

#ifdef SIZE_ENCODER
/* A device that says hello, describes two sensors and sends data. */
static uint8_t tx[IOTP_TX_BUF(IOTP_DEFAULT_MAX_FRAME)];

static void send(const uint8_t *p, size_t n) {
  while (n--) sink = *p++;
}

int main(void) {
  static const iotp_sensor sensors[2] = {{1, {"temperature", 11}, {"Cel", 3}, -1, 1, 1},
                                         {2, {"humidity", 8}, {"%RH", 3}, -1, 1, 1}};
  iotp_reading readings[2];
  iotp_message m;
  iotp_header h = {IOTP_VERSION, 0, IOTP_HELLO, 0, 0x1234u};
  m.type = IOTP_HELLO;
  m.u.hello.device_id.ptr = "m0-1";
  m.u.hello.device_id.len = 4;
  m.u.hello.firmware.ptr = "1.0";
  m.u.hello.firmware.len = 3;
  m.u.hello.capabilities = IOTP_CAP_RETRANSMIT;
  m.u.hello.has_max_frame = 0;
  send(tx, iotp_encode_frame(&h, &m, tx, sizeof tx));
  h.type = m.type = IOTP_DESCRIBE;
  h.seq++;
  m.u.describe.items = sensors;
  m.u.describe.count = 2;
  send(tx, iotp_encode_frame(&h, &m, tx, sizeof tx));
  for (;;) {
    h.type = m.type = IOTP_DATA;
    h.seq++;
    readings[0].alias = 1;
    readings[0].value = source;
    readings[1].alias = 2;
    readings[1].value = source;
    m.u.data.has_uptime = 1;
    m.u.data.uptime = source;
    m.u.data.has_time = 0;
    m.u.data.items = readings;
    m.u.data.count = 2;
    send(tx, iotp_encode_frame(&h, &m, tx, sizeof tx));
  }
}
#endif

#ifdef SIZE_DECODER
/* GCC turns zeroing loops into memset calls; firmware has it from its libc. */
void *memset(void *s, int c, size_t n);
void *memset(void *s, int c, size_t n) {
  volatile uint8_t *p = (volatile uint8_t *)s;
  while (n--) *p++ = (uint8_t)c;
  return s;
}

/* A device that receives frames (acks, commands) and looks at each one. */
static uint8_t rx[IOTP_RX_BUF(IOTP_DEFAULT_MAX_FRAME)];

static void on_frame(void *ctx, const iotp_event *ev) {
  (void)ctx;
  if (ev->ok && ev->msg.type == IOTP_ACK) sink = (uint8_t)ev->msg.u.ack.cumulative;
  if (ev->ok && ev->msg.type == IOTP_COMMAND) sink = (uint8_t)ev->msg.u.command.id;
  if (!ev->ok) sink = ev->fail.code;
}

int main(void) {
  iotp_decoder d;
  iotp_decoder_init(&d, rx, sizeof rx, IOTP_DEFAULT_MAX_FRAME, on_frame, 0);
  for (;;) {
    uint8_t b = source;
    iotp_decoder_push(&d, &b, 1);
  }
}
#endif
