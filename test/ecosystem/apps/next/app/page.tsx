import Demo from './demo';

// A server component page; the model runs in the client component below.
export default function Page() {
  return (
    <main>
      <h1>modelfleet in a Next.js app</h1>
      <Demo />
    </main>
  );
}
