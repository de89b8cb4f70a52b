import type { Dialect } from '../profiles.ts';

/** How a virtual modem of one family looks and misbehaves. */
export interface DialectSpec {
  manufacturer: string;
  model: string;
  revision: string;
  /** ICCID query command (upper case) and how the reply line is written. */
  iccid: { command: string; reply: (iccid: string) => string };
  bootUrcs: string[];
  /** Final result for an unknown command. */
  unknownCommand: string;
  storages: string[];
  /** Lowest and highest number of AT+CPMS parameters accepted. */
  cpmsMinParams: number;
  cpmsMaxParams: number;
  /** Where status reports for CNMI ds=2 are stored and the storage name the +CDSI names. */
  reportStorage: string;
  reportAnnouncedAs: string;
  storageFullUrc: string;
  signalUrc?: (rssi: number) => string;
  /** Periodic noise this family prints on the AT port unless told otherwise. */
  chatty: boolean;
}

export const DIALECTS: Readonly<Record<Dialect, DialectSpec>> = {
  quectel: {
    manufacturer: 'Quectel',
    model: 'EC25',
    revision: 'EC25EFAR06A06M4G',
    iccid: { command: 'AT+QCCID', reply: (iccid) => `+QCCID: ${iccid}` },
    bootUrcs: ['RDY', '+CFUN: 1', '+CPIN: READY', '+QUSIM: 1', '+QIND: SMS DONE', '+QIND: PB DONE'],
    unknownCommand: 'ERROR',
    storages: ['SM', 'ME', 'MT', 'SR'],
    cpmsMinParams: 1,
    cpmsMaxParams: 3,
    reportStorage: 'SR',
    reportAnnouncedAs: 'SR',
    storageFullUrc: '+QIND: "smsfull","ME"',
    chatty: false,
  },
  simcom: {
    manufacturer: 'SIMCOM INCORPORATED',
    model: 'SIMCOM_SIM7600G-H',
    revision: 'LE20B04SIM7600G22',
    iccid: { command: 'AT+CICCID', reply: (iccid) => `+ICCID: ${iccid}` },
    bootUrcs: ['RDY', '+CPIN: READY', 'SMS DONE', 'PB DONE'],
    unknownCommand: 'ERROR',
    storages: ['SM', 'ME', 'SR'],
    cpmsMinParams: 1,
    cpmsMaxParams: 3,
    reportStorage: 'SR',
    reportAnnouncedAs: 'SR',
    storageFullUrc: '+CIEV: "SMSFULL",1',
    chatty: false,
  },
  huawei: {
    manufacturer: 'huawei',
    model: 'ME909s-120',
    revision: '11.617.15.00.00',
    iccid: { command: 'AT^ICCID?', reply: (iccid) => `^ICCID: ${iccid}` },
    bootUrcs: ['^SYSSTART', '^SIMST: 1'],
    unknownCommand: 'COMMAND NOT SUPPORT',
    storages: ['SM', 'ME', 'SR'],
    // As the E3372 stick firmware: the one-parameter AT+CPMS="SR" is answered with ERROR.
    cpmsMinParams: 3,
    cpmsMaxParams: 3,
    // Reports land in SR but are announced as SM: the driver must look elsewhere.
    reportStorage: 'SR',
    reportAnnouncedAs: 'SM',
    storageFullUrc: '^SMMEMFULL: "SM"',
    signalUrc: (rssi) => `^RSSI: ${rssi}`,
    chatty: true,
  },
  sierra: {
    manufacturer: 'Sierra Wireless, Incorporated',
    model: 'EM7455',
    revision: 'SWI9X30C_02.33.03.00',
    iccid: { command: 'AT!ICCID?', reply: (iccid) => `ICCID: ${iccid}` },
    bootUrcs: [],
    unknownCommand: 'ERROR',
    storages: ['SM', 'ME'],
    cpmsMinParams: 1,
    cpmsMaxParams: 3,
    reportStorage: 'ME',
    reportAnnouncedAs: 'ME',
    storageFullUrc: '+CIEV: "SMSFULL",1',
    chatty: false,
  },
  telit: {
    manufacturer: 'Telit',
    model: 'LE910C1-EU',
    revision: '25.21.660',
    iccid: { command: 'AT#CCID', reply: (iccid) => `#CCID: ${iccid}` },
    bootUrcs: [],
    unknownCommand: 'ERROR',
    storages: ['SM', 'ME', 'SR'],
    cpmsMinParams: 1,
    cpmsMaxParams: 3,
    reportStorage: 'SR',
    reportAnnouncedAs: 'SR',
    storageFullUrc: '+CIEV: "SMSFULL",1',
    chatty: false,
  },
  generic: {
    manufacturer: 'Generic',
    model: 'GSM Modem',
    revision: '1.0',
    iccid: { command: 'AT+CCID', reply: (iccid) => `+CCID: ${iccid}` },
    bootUrcs: [],
    unknownCommand: 'ERROR',
    storages: ['SM'],
    cpmsMinParams: 1,
    cpmsMaxParams: 1,
    reportStorage: 'SM',
    reportAnnouncedAs: 'SM',
    storageFullUrc: '+CIEV: "SMSFULL",1',
    chatty: false,
  },
};
