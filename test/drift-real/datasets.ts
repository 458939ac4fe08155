/**
 * @module drift-real/datasets
 * The four real data sets of the calibration suite (vega-datasets, test/fixtures/real-data.ts),
 * each split into the rows a model was trained and baselined on and rows from a population that
 * really differs. Together they cover integer features (cylinders, running time, flipper length,
 * body mass), values on a grid (temperatures and wind to 0.1, IMDB ratings to 0.1), a
 * zero-inflated feature (precipitation: most winter days and nearly all summer days are dry), a
 * heavy tail (production budget) and categorical inputs, with baselines of ~150 to ~360 rows.
 *
 * Categorical inputs are numeric codes, because the model consumes numbers and the SDK sketches
 * what the model is given; the baseline's vocabulary is then the codes as strings ("0", "1", …).
 * Rows with a missing value the model needs are dropped (a model cannot take null).
 */
import { readFileSync } from 'node:fs';
import type { FeatureSpec } from '@modelfleet/protocol';
import { realDataFile } from '../fixtures/real-data.ts';

export interface DataSet {
  id: string;
  /** The model's input columns, in order, as the baseline schema names them. */
  features: FeatureSpec[];
  /** What each categorical code stands for (index = code), for reports. */
  codes: Record<string, string[]>;
  /** The model's classes (softmax outputs), and each baseline row's label to train on. */
  classes: string[];
  labels: number[];
  /** Training = baseline rows, as model inputs. */
  baseline: number[][];
  /** Rows from the shifted population, same columns. */
  shift: number[][];
  /** How the two populations were chosen, for the report. */
  split: string;
}

const code = (vocab: readonly string[], v: string) => {
  const i = vocab.indexOf(v);
  if (i < 0) throw new Error(`unknown category ${v}`);
  return i;
};
const json = (file: 'cars.json' | 'penguins.json' | 'movies.json') =>
  JSON.parse(readFileSync(realDataFile(file), 'utf8')) as Record<string, unknown>[];
const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const complete = (xs: (number | null)[]): xs is number[] => xs.every((x) => x !== null);

/** Seattle daily weather 2012–2015: winter (Dec–Feb) against summer (Jun–Aug); the model guesses the weather. */
function seattle(): DataSet {
  const WEATHER = ['drizzle', 'fog', 'rain', 'snow', 'sun'];
  const lines = readFileSync(realDataFile('seattle-weather.csv'), 'utf8').trim().split('\n');
  const header = lines[0]!.split(',');
  const rows = lines.slice(1).map((l) => Object.fromEntries(l.split(',').map((v, i) => [header[i]!, v])));
  const month = (r: Record<string, string>) => Number(r.date!.slice(5, 7));
  const inputs = (r: Record<string, string>) => [
    Number(r.precipitation),
    Number(r.temp_max),
    Number(r.temp_min),
    Number(r.wind),
  ];
  const winter = rows.filter((r) => [12, 1, 2].includes(month(r)));
  const summer = rows.filter((r) => [6, 7, 8].includes(month(r)));
  return {
    id: 'seattle-weather',
    features: ['precipitation', 'temp_max', 'temp_min', 'wind'].map((name) => ({ name, kind: 'numeric' as const })),
    codes: {},
    classes: WEATHER,
    labels: winter.map((r) => code(WEATHER, r.weather!)),
    baseline: winter.map(inputs),
    shift: summer.map(inputs),
    split: 'winter days (Dec–Feb) vs summer days (Jun–Aug), 2012–2015',
  };
}

/** Cars of the 1970s–80s: US cars against Japanese ones; the model guesses "accelerates 0–60 mph in under 15 s". */
function cars(): DataSet {
  const ORIGIN = ['USA', 'Europe', 'Japan'];
  const inputs = (r: Record<string, unknown>) => [
    num(r.Cylinders),
    num(r.Horsepower),
    num(r.Weight_in_lbs),
    num(r.Miles_per_Gallon),
    code(ORIGIN, r.Origin as string),
  ];
  const rows = json('cars.json').filter((r) => complete(inputs(r)) && num(r.Acceleration) !== null);
  const usa = rows.filter((r) => r.Origin === 'USA');
  const japan = rows.filter((r) => r.Origin === 'Japan');
  return {
    id: 'cars',
    features: [
      ...['Cylinders', 'Horsepower', 'Weight_in_lbs', 'Miles_per_Gallon'].map((name) => ({
        name,
        kind: 'numeric' as const,
      })),
      { name: 'Origin', kind: 'categorical' as const },
    ],
    codes: { Origin: ORIGIN },
    classes: ['slow', 'quick'],
    labels: usa.map((r) => ((r.Acceleration as number) < 15 ? 1 : 0)),
    baseline: usa.map((r) => inputs(r) as number[]),
    shift: japan.map((r) => inputs(r) as number[]),
    split: 'US cars vs Japanese cars',
  };
}

/** Palmer penguins: Adélie against Gentoo; the model guesses the sex from the measurements and the island. */
function penguins(): DataSet {
  const ISLAND = ['Biscoe', 'Dream', 'Torgersen'];
  const SEX = ['FEMALE', 'MALE'];
  const measures = ['Beak Length (mm)', 'Beak Depth (mm)', 'Flipper Length (mm)', 'Body Mass (g)'];
  const inputs = (r: Record<string, unknown>) => [...measures.map((m) => num(r[m])), code(ISLAND, r.Island as string)];
  const rows = json('penguins.json').filter((r) => complete(inputs(r)) && SEX.includes(r.Sex as string));
  const adelie = rows.filter((r) => r.Species === 'Adelie');
  const gentoo = rows.filter((r) => r.Species === 'Gentoo');
  return {
    id: 'penguins',
    features: [
      ...measures.map((name) => ({ name, kind: 'numeric' as const })),
      { name: 'Island', kind: 'categorical' as const },
    ],
    codes: { Island: ISLAND },
    classes: SEX,
    labels: adelie.map((r) => code(SEX, r.Sex as string)),
    baseline: adelie.map((r) => inputs(r) as number[]),
    shift: gentoo.map((r) => inputs(r) as number[]),
    split: 'Adélie vs Gentoo penguins',
  };
}

/**
 * Movies (1928–2010, the US box office): dramas against action films; the model guesses "grossed at
 * least twice its budget worldwide". (1990s against 2000s releases was the first idea, but the
 * numeric columns hardly move between decades — KS p ≈ 0.1 — so it would not test detection.)
 */
function movies(): DataSet {
  const MPAA = ['G', 'PG', 'PG-13', 'R', 'NC-17', 'Not Rated'];
  // Budget in $ millions: the scale a model would be fed (the baseline is built from the same numbers).
  const inputs = (r: Record<string, unknown>) => {
    const budget = num(r['Production Budget']);
    return [
      num(r['IMDB Rating']),
      num(r['Running Time min']),
      budget === null ? null : budget / 1e6,
      MPAA.includes(r['MPAA Rating'] as string) ? code(MPAA, r['MPAA Rating'] as string) : null,
    ];
  };
  const rows = json('movies.json').filter((r) => complete(inputs(r)) && num(r['Worldwide Gross']) !== null);
  const dramas = rows.filter((r) => r['Major Genre'] === 'Drama');
  const action = rows.filter((r) => r['Major Genre'] === 'Action');
  return {
    id: 'movies',
    features: [
      ...['IMDB Rating', 'Running Time min', 'Production Budget ($M)'].map((name) => ({
        name,
        kind: 'numeric' as const,
      })),
      { name: 'MPAA Rating', kind: 'categorical' as const },
    ],
    codes: { 'MPAA Rating': MPAA },
    classes: ['flop', 'hit'],
    labels: dramas.map((r) => ((r['Worldwide Gross'] as number) >= 2 * (r['Production Budget'] as number) ? 1 : 0)),
    baseline: dramas.map((r) => inputs(r) as number[]),
    shift: action.map((r) => inputs(r) as number[]),
    split: 'dramas vs action films',
  };
}

export const DATA_SETS = { 'seattle-weather': seattle, cars, penguins, movies } satisfies Record<string, () => DataSet>;
export type DataSetId = keyof typeof DATA_SETS;
