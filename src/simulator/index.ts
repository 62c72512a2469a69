/** The local market simulator: what tests, the demo and the benchmarks run instead of the exchanges. */
export { startSimulator, type SimulatorEvent, type SimulatorHandle, type SimulatorOptions, type SimulatorStats } from './server.js';
export { listScenarios, loadScenario, parseScenario, scenariosDir, type ScenarioListing } from './scenario-loader.js';
export type { Scenario, ScenarioEvent, ScenarioInput, SymbolMarket } from './scenario.js';
export type { PrintedTrade } from './types.js';
