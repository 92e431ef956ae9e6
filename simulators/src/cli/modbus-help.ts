import { FLEET } from './help.ts';

export const MODBUS_HELP = `iot-sim modbus: devices as Modbus servers (slaves) for a master, the gateway, to poll.

Every device is one unit id (1, 2, ... from --first-unit) on an RTU line and/or a Modbus TCP
server, with its latest reading in its registers; holding (function 3) and input (function 4)
registers hold the same values. Register map (simulators/README.md has the table): register
0 counts the samples taken (uint16), then the device's metrics in profile order from
address 1, no gaps; each a scaled integer (raw = value / 10^scale; int16 temperature and
humidity, uint32 power and energy, ...) or, with --encoding float32, an IEEE float.
A metric with no value (a dropout anomaly, a device just rebooted) answers exception 04; an
address outside the map 02; other function codes 01. An RTU request for a unit id nobody has
is not answered; over TCP it answers 0B (gateway target failed to respond).

A reading counts as sent (and acknowledged) once in the registers: Modbus has no push. The
summary adds requests, answers, exceptions, crcErrors, reads (register reads answered) and
unread (readings replaced before any poll read them). Modbus carries no timestamps: the
gateway stamps each poll, so labels (in the device's clock) match polls up to one interval late.

Usage: iot-sim modbus (--rtu PATH | --tcp [HOST:]PORT) [options]

Bus:
      --rtu PATH            serve Modbus RTU on this serial line: one end of a pty pair,
                              socat -d -d pty,raw,echo=0,link=/tmp/gw pty,raw,echo=0,link=/tmp/dev
                            (iot-sim opens /tmp/dev, the gateway /tmp/gw), or a port set up
                            with stty -F /dev/ttyUSB0 19200 raw -echo
      --baud N              answer as late as the exchange would take on a line at N bits/s
                            (11 bits a character, 3.5-character silences)  (default: at once)
      --tcp [HOST:]PORT     serve Modbus TCP                             (host default 127.0.0.1)
      --first-unit N        unit id of the first device, then +1 each    (default 1)
      --encoding E          int: scaled integers; float32: IEEE floats   (default int)
      --word-order O        big | little: 32-bit values, low word first when little (default big)
      --byte-order O        big | little: bytes of each register swapped when little (default big)

Gateway configuration:
      --print-config        print the gateway's "modbus:" block for these devices and exit
      --gateway-serial PATH the gateway's end of the RTU line, for --print-config
                                                                         (default: the --rtu path)
      --poll-interval D     pollIntervalMs in the block; bare numbers are ms (default --interval)
      --sample-count        also read register 0, as the metric sample_count

${FLEET}
Example: 5 climate devices on a pty at 19200 baud, polled by the gateway every second
  socat -d -d pty,raw,echo=0,link=/tmp/gw pty,raw,echo=0,link=/tmp/dev &
  iot-sim modbus --rtu /tmp/dev --gateway-serial /tmp/gw --baud 19200 --devices 5 \\
    --print-config > modbus.yaml
  iot-sim modbus --rtu /tmp/dev --baud 19200 --devices 5 &
  KAFKA_BROKERS=127.0.0.1:9092 iot-gateway --config modbus.yaml
`;
