/**
 * Third-party libraries that would phone home unless told not to. ONNX Runtime (onnxruntime-node
 * 1.2x+ on Linux) sends usage telemetry to mobile.events.data.microsoft.com unless
 * ORT_DISABLE_TELEMETRY is set when its first session is created; the privacy test caught its
 * DNS lookups. Set here, before any session exists, unless the operator set it themselves.
 */
export const LIBRARY_TELEMETRY_SWITCHES: Readonly<Record<string, string>> = { ORT_DISABLE_TELEMETRY: '1' };

/** Turns library telemetry off for this process (worker threads read the same environment). */
export function disableLibraryTelemetry(env: Record<string, string | undefined> = process.env): void {
  for (const [name, value] of Object.entries(LIBRARY_TELEMETRY_SWITCHES)) {
    if (env[name] === undefined) env[name] = value;
  }
}
