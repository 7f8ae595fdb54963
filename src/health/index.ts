/** Health: periodic samples for the `health` topic, the memory budget, systemd notification and watchdog. */
export { HealthMonitor, defaultSystemReader, processFigures, type HealthMonitorOptions, type HealthMonitorEvents, type SystemReader } from './monitor.js';
export { MemoryBudget, type MemoryBudgetOptions, type MemoryBudgetEvents, type MemoryState, type MemoryTransition } from './memory-budget.js';
export { SystemdNotifier, type SystemdNotifierOptions } from './systemd.js';
export { createThrottleReader, parseThrottled, PI_THROTTLED_SYSFS, type ThrottleReaderOptions } from './throttle.js';
export { percentile, RollingWindow } from './stats.js';
export type { HealthSample, HealthProvider, ProviderFigures, ProcessFigures, SystemFigures, ThrottleState } from './types.js';
