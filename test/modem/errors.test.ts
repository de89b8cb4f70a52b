import { describe, expect, it } from 'vitest';
import { AgentPhoneError } from '../../src/errors/index.ts';
import { ModemError } from '../../src/modem/index.ts';

describe('ModemError', () => {
  it('parses a numeric +CMS ERROR with its meaning and marks congestion retryable', () => {
    const error = ModemError.fromFinal('+CMS ERROR: 42', 'AT+CMGS=20');
    expect(error).toBeInstanceOf(AgentPhoneError);
    expect(error.kind).toBe('cms');
    expect(error.errorCode).toBe(42);
    expect(error.meaning).toBe('congestion');
    expect(error.retryable).toBe(true);
    expect(error.code).toBe('MODEM_CMS');
    expect(error.status).toBe(503);
  });

  it('maps a verbose +CMS ERROR text back to its number and marks a bad address permanent', () => {
    const error = ModemError.fromFinal('+CMS ERROR: invalid SME address');
    expect(error.errorCode).toBe(195);
    expect(error.retryable).toBe(false);
  });

  it('parses verbose and numeric +CME ERROR for a busy SIM', () => {
    expect(ModemError.fromFinal('+CME ERROR: SIM busy').errorCode).toBe(14);
    const numeric = ModemError.fromFinal('+CME ERROR: 14');
    expect(numeric.meaning).toBe('SIM busy');
    expect(numeric.retryable).toBe(true);
  });

  it('keeps an unknown verbose text as the meaning without a number', () => {
    const error = ModemError.fromFinal('+CMS ERROR: vendor specific thing');
    expect(error.errorCode).toBeUndefined();
    expect(error.meaning).toBe('vendor specific thing');
  });

  it('treats a plain ERROR as permanent and a timeout as retryable', () => {
    expect(ModemError.fromFinal('ERROR').retryable).toBe(false);
    expect(new ModemError('no response', { kind: 'timeout' }).retryable).toBe(true);
  });

  it('never puts the PIN in the message when the command was redacted', () => {
    const error = ModemError.fromFinal('+CME ERROR: 16', 'AT+CPIN=<redacted>');
    expect(error.message).not.toMatch(/\d{4}"/);
    expect(error.message).toContain('incorrect password');
  });
});
