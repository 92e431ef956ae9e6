import { installedGatewaySuite } from './installed-gateway-suite.ts';

// The packed gateway on this machine's own Node (x86-64 here; docs/raspberry-pi.md's steps).
installedGatewaySuite({ platform: 'this machine', arch: process.arch });
