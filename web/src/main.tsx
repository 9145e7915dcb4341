import { startTransition, StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { i18nReady } from './i18n';
import { App } from './App';
import './styles.css';

// The first render waits for the page's language (English at once; another, its catalogue's file).
// It runs as a transition: React renders it in slices of a few milliseconds, giving the main thread
// back in between (a slow phone stays responsive to taps while the page builds, instead of one long
// task of 100-600 ms spent mostly compiling and running React for the first time).
void i18nReady.then(() => {
  const root = createRoot(document.getElementById('root')!);
  startTransition(() =>
    root.render(
      <StrictMode>
        <App />
      </StrictMode>,
    ),
  );
});
