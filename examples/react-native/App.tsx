/**
 * A minimal app: the fraud-demo model from `npm start`, verified and run on the phone through
 * @modelfleet/react-native. Set APP_KEY (printed by `npm start`) and copy root.json; see README.md.
 */
import { useState } from 'react';
import { Button, StyleSheet, Text, View } from 'react-native';
import { ModelFleetProvider, useModel } from '@modelfleet/react-native';
import trustRoot from './root.json';

// The control plane as the phone sees it: an https:// address (README step 2). The WebView page is
// an https page with a public origin, so plain http or a LAN/loopback address is refused by
// mixed-content or Local Network Access rules in current WebViews.
const ENDPOINT = 'https://REPLACE-ME.trycloudflare.com';
const APP_KEY = 'mfa_…printed by npm start…';

function Score() {
  const fraud = useModel('fraud-demo');
  const [score, setScore] = useState<string>('—');
  const run = async () => {
    // The 12 features of the first example in examples/fraud-model/golden.json.
    const out = await fraud.predict([[48.413, 23, 0.786, 31.862, 0, 18, 131, 0, 1, 24.365, 0, 819]]);
    // Outputs are typed tensors ({ dtype, shape, data }); one sigmoid unit per row here.
    const [first] = Object.values(out);
    setScore(first ? `fraud probability ${first.data[0]!.toFixed(3)}` : 'no output');
  };
  return (
    <View style={styles.card}>
      <Text style={styles.title}>fraud-demo</Text>
      <Text>
        status: {fraud.status}
        {fraud.error ? ` (${fraud.error.code}: ${fraud.error.message})` : ''}
      </Text>
      <Text>
        version: {fraud.version ?? '—'} · backend: {fraud.backend ?? '—'}
      </Text>
      <Button title="Score a transaction" onPress={run} disabled={fraud.status !== 'ready'} />
      <Text selectable>{score}</Text>
    </View>
  );
}

export default function App() {
  return (
    <View style={styles.screen}>
      <ModelFleetProvider config={{ endpoint: ENDPOINT, appKey: APP_KEY, trustRoot, appVersion: '1.0.0' }}>
        <Score />
      </ModelFleetProvider>
    </View>
  );
}

const styles = StyleSheet.create({
  screen: { flex: 1, padding: 24, paddingTop: 64 },
  card: { gap: 12 },
  title: { fontSize: 22, fontWeight: '600' },
});
