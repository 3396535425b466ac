/**
 * Template-generated single prompts. They widen vocabulary (more languages, tasks, topics, forms)
 * beyond the hand-written lists; they are used for training only, never for the held-out
 * measurement, because templated prompts are easier than real ones and would flatter the numbers.
 */
import type { Category } from '../../../../../plugin-api/index.js';
import { ERRORS, SNIPPETS } from './snippets.js';

type Pick = <T>(items: readonly T[]) => T;

const LANGS = ['Python', 'JavaScript', 'TypeScript', 'Java', 'Go', 'Rust', 'C#', 'C++', 'Ruby', 'PHP', 'Kotlin', 'Swift', 'Scala', 'Elixir', 'Bash', 'C', 'Dart', 'Lua', 'R', 'Haskell'];
const CODE_TASKS = [
  'reads a JSON file and prints the keys', 'removes duplicates from a list while keeping order', 'validates an IPv4 address',
  'counts word frequencies in a text file', 'retries an HTTP request with exponential backoff', 'parses command line arguments',
  'converts a timestamp to ISO 8601', 'finds the longest common prefix of a list of strings', 'uploads a file to S3',
  'connects to PostgreSQL and runs a query', 'implements a binary search tree with insert and delete', 'checks if two strings are anagrams',
  'rate limits calls to a function', 'reads environment variables with defaults', 'computes a SHA-256 hash of a file',
  'sends an email via SMTP', 'streams a large CSV without loading it into memory', 'caches function results with a TTL',
  'paginates through a REST API', 'resizes images in a folder', 'implements a producer-consumer queue', 'parses a YAML config',
  'merges two sorted linked lists', 'detects a cycle in a linked list', 'serializes a tree to a string and back',
  'schedules a job every 5 minutes', 'validates a credit card number with the Luhn algorithm', 'implements a min-heap',
  'handles graceful shutdown on SIGINT', 'logs requests with timing information', 'reverses the words in a sentence',
  'generates a random password', 'watches a directory for changes', 'implements pagination for a SQL table',
  'converts XML to JSON', 'calls an external API and handles timeouts', 'implements a simple key-value store over TCP',
];
const CODE_VERBS = ['Write', 'Create', 'Implement', 'Can you write', 'Show me', 'I need', 'Please write', 'Give me', 'Help me write', 'write'];
const CODE_ARTIFACTS = ['function', 'script', 'class', 'module', 'program', 'CLI tool', 'method', 'snippet', 'helper'];
const CODE_ASKS = [
  'What is wrong with this code?', 'Why does this not work?', 'Can you explain what this code does?', 'How can I make this faster?',
  'Refactor this to be more readable.', 'Add error handling to this.', 'Write unit tests for this.', 'Is there a bug here?',
  'Convert this to {lang}.', 'Review this code please.', 'Add type annotations.', 'This works but feels clunky, any improvements?',
  'Can you add comments explaining each step?', 'Why is this so slow on big inputs?', 'What does this output?',
];
const ERROR_ASKS = [
  'I get this error, what does it mean?', 'How do I fix this?', 'fix this error:', 'Getting this when I run my app:',
  'Any idea what causes this?', 'My build fails with:', 'Deploy failed with the following output, help:', 'why am I seeing this',
];
const CODE_HOWTO = [
  'How do I {task} in {lang}?', 'What is the best way to {task} in {lang}?', 'In {lang}, how can I {task}?',
  '{lang}: how to {task}', 'how to {task} with {lang}', 'Is there a library in {lang} to {task}?',
];
const CODE_HOWTO_TASKS = [
  'read a file line by line', 'sort a dictionary by value', 'make an HTTP POST request', 'parse JSON', 'handle exceptions',
  'run tasks in parallel', 'write to a CSV file', 'format dates', 'connect to a MySQL database', 'create a class with a constructor',
  'split a string by whitespace', 'check if a key exists in a map', 'deep copy an object', 'define an enum', 'use generics',
  'write a unit test', 'mock a dependency in tests', 'read command line arguments', 'use a regex to extract numbers', 'spawn a subprocess',
  'create a REST endpoint', 'log to a file', 'use async iterators', 'measure execution time', 'handle null values safely',
];

const PEOPLE = ['Sam', 'Priya', 'Liam', 'Mei', 'Omar', 'Ana', 'Jonas', 'Fatima', 'Kenji', 'Lucy'];
const THINGS = ['apples', 'pencils', 'stickers', 'books', 'marbles', 'cookies', 'tickets', 'cards'];

function int(pick: Pick, lo: number, hi: number): number {
  const values: number[] = [];
  for (let v = lo; v <= hi; v++) values.push(v);
  return pick(values);
}

const REASONING_TEMPLATES: Array<(pick: Pick) => string> = [
  (p) => `${p(PEOPLE)} has ${int(p, 12, 90)} ${p(THINGS)} and gives away ${int(p, 2, 9)} to each of ${int(p, 2, 6)} friends. How many are left?`,
  (p) => `A car travels ${int(p, 60, 400)} km in ${int(p, 2, 6)} hours. What is its average speed, and how long would ${int(p, 100, 900)} km take at that speed?`,
  (p) => `What is ${int(p, 5, 95)}% of ${int(p, 40, 2000)}?`,
  (p) => `Solve for x: ${int(p, 2, 9)}x ${p(['+', '-'])} ${int(p, 1, 30)} = ${int(p, 10, 90)}`,
  (p) => `What is ${int(p, 12, 99)} × ${int(p, 12, 99)}?`,
  (p) => `Calculate ${int(p, 100, 999)} + ${int(p, 100, 999)} - ${int(p, 10, 99)}`,
  (p) => `Is ${int(p, 100, 999)} a prime number? Explain how you checked.`,
  (p) => `In how many ways can ${int(p, 3, 8)} people be arranged in a line if two of them must stand next to each other?`,
  (p) => `How many ways are there to choose ${int(p, 2, 5)} items from ${int(p, 6, 15)}?`,
  (p) => `A bag contains ${int(p, 2, 9)} red, ${int(p, 2, 9)} green and ${int(p, 2, 9)} blue balls. If you draw ${int(p, 2, 3)} without replacement, what is the probability they are all the same color?`,
  (p) => `What is the probability of rolling a sum of ${int(p, 3, 11)} with two dice?`,
  (p) => `If I flip a coin ${int(p, 3, 12)} times, what's the probability of getting at least ${int(p, 1, 3)} heads?`,
  (p) => `${p(PEOPLE)} can finish a job in ${int(p, 3, 12)} hours and ${p(PEOPLE)} in ${int(p, 4, 15)} hours. Working together, how long will it take?`,
  (p) => `The price of a ${p(['laptop', 'bike', 'sofa', 'phone', 'ticket'])} rose by ${int(p, 5, 40)}% and then fell by ${int(p, 5, 40)}%. Is it now cheaper or more expensive than originally, and by how much?`,
  (p) => `Find the derivative of ${p(['x^', 'e^', 'sin ', 'ln '])}${int(p, 2, 7)}x ${p(['* cos(x)', '+ x^2', '/ (x+1)', '* e^x'])}`,
  (p) => `Compute the integral of ${p(['x^2', 'sin(x)', '3x + 2', 'e^(2x)', '1/x', 'x cos(x)'])} from ${int(p, 0, 2)} to ${int(p, 3, 6)}.`,
  (p) => `Prove that for every integer n, n^${int(p, 2, 3)} ${p(['- n', '+ n'])} is ${p(['even', 'divisible by 2'])}.`,
  (p) => `Estimate how many ${p(['tennis balls', 'grains of rice', 'smartphones', 'trees', 'coffee cups', 'hairs'])} ${p(['fit in a football stadium', 'are sold in Brazil every year', 'there are in New York City', 'are on a human head', 'are used in London each day'])}. Show your assumptions.`,
  (p) => `A rectangle is ${int(p, 3, 20)} m by ${int(p, 3, 20)} m. What are its area, perimeter and diagonal?`,
  (p) => `What is the remainder when ${int(p, 2, 9)}^${int(p, 20, 200)} is divided by ${int(p, 3, 11)}?`,
  (p) => `${p(PEOPLE)} is ${int(p, 2, 5)} times as old as ${p(PEOPLE)}. In ${int(p, 5, 20)} years, ${p(['she', 'he'])} will be twice as old. How old are they now?`,
  (p) => `If all ${p(['wizards', 'doctors', 'robots', 'painters'])} are ${p(['tall', 'curious', 'careful', 'honest'])} and some ${p(['tall', 'curious', 'careful', 'honest'])} people are ${p(['musicians', 'gardeners', 'pilots'])}, can we conclude that some ${p(['wizards', 'doctors', 'robots', 'painters'])} are ${p(['musicians', 'gardeners', 'pilots'])}? Explain the logic.`,
  (p) => `Invest $${int(p, 1, 50)},000 at ${int(p, 2, 9)}% compounded annually. What is it worth after ${int(p, 5, 30)} years?`,
  (p) => `A train ${int(p, 100, 400)} m long passes a pole in ${int(p, 5, 20)} seconds. How long does it take to cross a bridge ${int(p, 200, 900)} m long?`,
  (p) => `Schedule ${int(p, 4, 8)} tasks across ${int(p, 2, 3)} workers so that the total finishing time is minimized. Durations: ${[1, 2, 3, 4, 5].map(() => int(p, 1, 9)).join(', ')} hours. Task 2 must finish before task 4.`,
  (p) => `Which is cheaper per unit: ${int(p, 200, 900)} g for $${int(p, 2, 9)}.${int(p, 10, 99)} or ${int(p, 1, 3)} kg for $${int(p, 5, 19)}.${int(p, 10, 99)}? Show the calculation.`,
  (p) => `A ${int(p, 2, 20)} kg object is dropped from ${int(p, 5, 100)} m. How fast is it going when it hits the ground, and how long does the fall take?`,
  (p) => `What is the sum of the first ${int(p, 10, 100)} ${p(['odd numbers', 'even numbers', 'positive integers', 'square numbers'])}?`,
  (p) => `Find x if ${int(p, 2, 5)}^x = ${p(['8', '16', '81', '125', '64', '243'])}.`,
  (p) => `Mean and median of: ${[1, 2, 3, 4, 5, 6].map(() => int(p, 1, 60)).join(', ')}`,
  (p) => `We have ${int(p, 3, 6)} candidate projects with costs and expected returns ${[1, 2, 3, 4].map(() => `$${int(p, 10, 90)}k/${int(p, 5, 30)}%`).join(', ')}, and a budget of $${int(p, 80, 200)}k. Which should we fund to maximize total return?`,
];

const FORMS = ['poem', 'short story', 'haiku', 'limerick', 'sonnet', 'song', 'rap verse', 'fairy tale', 'fable', 'ballad', 'free verse poem', 'bedtime story', 'flash fiction piece', 'monologue', 'dialogue', 'ode', 'short scene', 'rhyming poem', 'comedy sketch', 'horror story', 'love poem', 'myth'];
const CREATIVE_TOPICS = [
  'the ocean at night', 'a lonely robot', 'my first day at a new job', 'autumn in the city', 'a dragon who is afraid of fire',
  'coffee', 'recursion', 'a lost sock', 'the moon', 'friendship', 'a haunted library', 'time travel', 'the last tree on Earth',
  'a cat who rules the house', 'debugging at 3am', 'a rainy Monday', 'grandmother\'s garden', 'a spaceship crew', 'a forgotten city',
  'the smell of bread', 'a broken clock', 'learning to fly', 'the internet', 'winter mornings', 'a detective who is a ghost',
  'a village under the sea', 'mathematics', 'the color blue', 'a traffic jam', 'a wizard\'s apprentice', 'summer love',
  'a mountain climber', 'an AI who wants to dream', 'the stock market', 'a pirate queen', 'a tiny mouse with big dreams',
  'the end of the world', 'a vending machine with feelings', 'homesickness', 'a city of clocks', 'a kitchen at midnight',
];
const CREATIVE_STYLES = ['Edgar Allan Poe', 'Dr. Seuss', 'a noir detective novel', 'Shakespeare', 'a fairy tale', 'a sports commentator', 'a pirate', 'Hemingway', 'a gothic novel', 'a 1950s radio drama', 'a Greek tragedy', 'a children\'s book'];
const CREATIVE_VERBS = ['Write', 'Write me', 'Compose', 'Can you write', 'Please write', 'I\'d love a', 'Give me', 'Create', 'Tell me', 'write'];
const TONES = ['funny', 'sad', 'whimsical', 'dark', 'heartwarming', 'spooky', 'epic', 'melancholic', 'hopeful', 'absurd', 'romantic', ''];
const BUSINESSES = ['a vegan bakery', 'a dog grooming salon', 'a cybersecurity startup', 'a podcast about gardening', 'a craft brewery', 'a yoga studio', 'a bike repair shop', 'a mobile game about cats', 'a language-learning app', 'a coffee truck', 'a family law firm', 'a sci-fi book club', 'an indie rock band', 'a hiking club'];
const PERSONAS = ['a grumpy wizard', 'a pirate captain', 'a Victorian butler', 'an alien tourist', 'a medieval knight', 'a noir detective', 'a talking cat', 'a space station AI', 'a Roman senator', 'a cowboy'];

const CONCEPTS = [
  'how TCP works', 'how DNS works', 'what an API is', 'how the internet works', 'how vaccines work', 'the theory of relativity',
  'what inflation is', 'how credit cards work', 'what photosynthesis is', 'how the heart pumps blood', 'what a recession is',
  'how WiFi works', 'what cloud computing is', 'how elections work', 'what the stock market is', 'how batteries store energy',
  'what climate change is', 'how antibiotics work', 'what a black hole is', 'how earthquakes happen', 'how memory works in the brain',
  'what democracy means', 'how tides work', 'what a VPN does', 'how email gets delivered', 'what cryptocurrency is',
  'how airplanes fly', 'how the immune system works', 'what supply and demand means', 'how a camera works', 'what nutrition labels mean',
];
const PEOPLE_FAMOUS = ['Napoleon', 'Ada Lovelace', 'Nelson Mandela', 'Frida Kahlo', 'Isaac Newton', 'Genghis Khan', 'Rosa Parks', 'Leonardo da Vinci', 'Mahatma Gandhi', 'Charles Darwin', 'Queen Victoria', 'Nikola Tesla', 'Simone de Beauvoir', 'Confucius'];
const HISTORY = ['the Ottoman Empire', 'the Industrial Revolution', 'the printing press', 'the Silk Road', 'the Cold War', 'ancient Egypt', 'the Aztecs', 'the Renaissance', 'the moon landing', 'the American Civil War', 'the Byzantine Empire', 'coffee', 'the bicycle'];
const RECIPIENTS = ['my manager', 'a client', 'my landlord', 'the school principal', 'a recruiter', 'my team', 'customer support', 'my neighbor', 'a professor', 'HR'];
const EMAIL_TOPICS = ['asking for a day off', 'following up on an invoice', 'rescheduling our meeting', 'thanking them for the interview', 'a noise complaint', 'requesting an extension on the deadline', 'introducing myself', 'a refund for a damaged item', 'the project status update', 'declining the offer politely'];
const PHRASES = ['Where is the nearest pharmacy?', 'I would like to order the soup', 'Thank you for your help', 'What time does the museum open?', 'I am allergic to peanuts', 'Happy birthday, my friend', 'Can you speak more slowly?'];
const LANGUAGES = ['Spanish', 'French', 'German', 'Italian', 'Japanese', 'Portuguese', 'Korean', 'Dutch', 'Chinese', 'Arabic'];
const ADVICE = ['staying focused while studying', 'saving money on groceries', 'training for a 10k run', 'dealing with stress at work', 'keeping houseplants alive', 'traveling on a budget', 'falling asleep faster', 'making friends in a new city', 'preparing for a job interview', 'improving my posture', 'reducing screen time', 'learning to cook'];
const RECOMMEND = ['books about stoicism', 'podcasts for learning history', 'board games for families', 'documentaries about space', 'hiking trails near Denver', 'anime for beginners', 'novels like The Hobbit', 'budget headphones', 'apps for meditation', 'places to visit in Japan'];

function reasoningPrompt(p: Pick): string {
  return p(REASONING_TEMPLATES)(p);
}

function codingPrompt(p: Pick): string {
  const kind = p([0, 0, 1, 1, 2, 2, 3]);
  if (kind === 0) return `${p(CODE_VERBS)} a ${p(LANGS)} ${p(CODE_ARTIFACTS)} that ${p(CODE_TASKS)}`;
  if (kind === 1) return p(CODE_HOWTO).replace('{task}', p(CODE_HOWTO_TASKS)).replace('{lang}', p(LANGS));
  if (kind === 2) {
    const s = p(SNIPPETS);
    const ask = p(CODE_ASKS).replace('{lang}', p(LANGS));
    return p([true, false]) ? `${ask}\n\n\`\`\`${s.lang}\n${s.code}\n\`\`\`` : `\`\`\`\n${s.code}\n\`\`\`\n${ask}`;
  }
  const error = p(ERRORS);
  return p([true, false]) ? `${p(ERROR_ASKS)}\n\n${error}` : `${error}\n\n${p(ERROR_ASKS)}`;
}

const TECH_MATH_TOPICS = [
  'a merge conflict', 'a stack overflow', 'the number seven', 'a spreadsheet', 'a broken build', 'compound interest', 'the stock market',
  'an infinite loop', 'a null pointer', 'the Pythagorean theorem', 'a lonely server', 'Wi-Fi', 'a legacy codebase', 'prime numbers',
  'a database migration', 'a calculator', 'the cloud', 'an AI assistant', 'a tax return', 'quarterly earnings', 'a GPS', 'a printer that hates Mondays',
];

function creativePrompt(p: Pick): string {
  const kind = p([0, 0, 0, 1, 2, 3, 4, 5, 5]);
  const tone = p(TONES);
  if (kind === 5) {
    return `${p(CREATIVE_VERBS)} a ${tone ? `${tone} ` : ''}${p(FORMS)} about ${p(TECH_MATH_TOPICS)}${p(['', ' for my team', ' for my students', ', from its point of view', ' in the style of ' + p(CREATIVE_STYLES)])}`;
  }
  if (kind === 0) return `${p(CREATIVE_VERBS)} a ${tone ? `${tone} ` : ''}${p(FORMS)} about ${p(CREATIVE_TOPICS)}`;
  if (kind === 1) return `${p(CREATIVE_VERBS)} a ${p(FORMS)} about ${p(CREATIVE_TOPICS)} in the style of ${p(CREATIVE_STYLES)}`;
  if (kind === 2) return `${p(['Brainstorm', 'Give me', 'Come up with', 'Suggest'])} ${int(p, 5, 20)} ${p(['catchy names', 'name ideas', 'slogans', 'taglines', 'funny names', 'creative names'])} for ${p(BUSINESSES)}`;
  if (kind === 3) return `${p(['Pretend you are', 'You are', 'Act as', 'Roleplay as'])} ${p(PERSONAS)}. ${p(['Tell me about your day.', 'Greet me and stay in character.', 'Describe your home.', 'Give me advice on love, in character.', 'I challenge you to a duel!'])}`;
  return `${p(['Write', 'Tell'])} a ${tone ? `${tone} ` : ''}${p(['story', 'tale', 'poem'])} ${p(['where', 'in which'])} ${p(CREATIVE_TOPICS)} ${p(['saves the day', 'falls in love', 'disappears', 'learns a secret', 'meets its double', 'goes on a quest'])}`;
}

// ---- general prompts that carry numbers, pasted reports and logs, or technology (not math, not code)
const METRICS = ['revenue', 'churn', 'signups', 'costs', 'headcount', 'NPS', 'website traffic', 'conversion rate', 'tickets closed', 'downtime'];
const REPORT_FACTS: Array<(p: Pick) => string> = [
  (p) => `${p(METRICS)} ${p(['up', 'down'])} ${int(p, 2, 40)}%`,
  (p) => `${p(['launch', 'offsite', 'release', 'audit', 'board meeting'])} moved to ${p(['March', 'June', 'Oct', 'the 14th', 'next Friday'])} ${int(p, 1, 28)}`,
  (p) => `budget ${p(['+', '-'])}${int(p, 5, 90)}k ${p(['approved', 'pending', 'cut'])}`,
  (p) => `${p(PEOPLE)} to ${p(['send the deck', 'update the forecast', 'call the vendor', 'review the contract', 'book the venue'])} by ${p(['Monday', 'Friday', 'the 20th', 'EOD'])}`,
  (p) => `${int(p, 2, 12)} new ${p(['clients', 'hires', 'stores', 'partners'])}`,
  (p) => `hiring freeze ${p(['lifted', 'extended'])} until Q${int(p, 1, 4)}`,
];
const LOG_LINES: Array<(p: Pick) => string> = [
  (p) => `[2024-0${int(p, 1, 9)}-1${int(p, 0, 9)} 0${int(p, 0, 9)}:${int(p, 10, 59)}:${int(p, 10, 59)}] ${p(['ERROR', 'WARN', 'INFO'])} ${p(['db connection lost', 'disk usage 9' + int(p, 0, 9) + '%', 'backup completed', 'payment service timeout', 'failover to replica', 'service restored', 'queue backlog ' + int(p, 100, 9000) + ' jobs', 'certificate expires in ' + int(p, 2, 30) + ' days'])}`,
];
const LAY_READERS = ['my manager', 'our CEO', 'a non-technical client', 'my mom', 'the sales team', 'our customers', 'the board', 'someone in marketing', 'my grandpa', 'the HR department'];
const SUMMARY_ASKS = [
  'Summarize this for {r} in plain English:', 'Can you explain this to {r}, no jargon?', 'tl;dr this for {r} please', 'Write a short recap of this for {r}:',
  'What does this mean? I need to explain it to {r}.', 'Turn this into 3 bullet points for {r}:', 'Rewrite this as a friendly update for {r}:',
  'Fasse das für {r} kurz zusammen:', 'Résume ceci pour {r} :', 'Resume esto para {r}:',
];
const NUMBER_FACTS = [
  'How many {x} are there in {y}?', 'What is the average {x} in {y}?', 'How much does {x} cost in {y} these days?', 'Is {n}{u} a lot of {x}?',
  'What percentage of people in {y} {z}?', 'When did {y} reach {n} million people?', 'Why did {x} go up by {n}% last year?',
];
const NF_X = ['salary', 'rent', 'rainfall', 'coffee', 'sleep', 'protein', 'screen time', 'caffeine', 'electricity use', 'tuition', 'inflation', 'house prices', 'steps', 'sugar'];
const NF_Y = ['Germany', 'Tokyo', 'the US', 'Brazil', 'London', 'a typical year', 'the EU', 'Canada', 'India', 'Spain'];
const NF_Z = ['own a car', 'work from home', 'speak English', 'have a pet', 'rent their home', 'use public transport'];
const NF_U = ['%', ' mg', ' hours', ' dollars', ' euros', ' grams', ' kWh', ' km'];
const FW_NUMBERS: Array<(p: Pick) => string> = [
  (p) => `Write an email to ${p(RECIPIENTS)} saying the invoice of ${p(['$', '€', '£'])}${int(p, 100, 9000)} will be paid ${int(p, 2, 14)} days late`,
  (p) => `Draft a short note to ${p(RECIPIENTS)}: we hit ${int(p, 80, 150)}% of target this quarter, thank you`,
  (p) => `Write a message to ${p(RECIPIENTS)} confirming the meeting on the ${int(p, 1, 28)}th at ${int(p, 9, 17)}:00`,
  (p) => `Help me write a cover letter for a ${p(['junior analyst', 'nurse', 'sales assistant', 'teacher', 'marketing coordinator', 'logistics planner'])} job, I have ${int(p, 1, 12)} years of experience`,
  (p) => `Write meeting minutes: ${int(p, 3, 9)} attendees, ${p(['budget', 'timeline', 'vendor', 'hiring plan'])} discussed, ${p(REPORT_FACTS)(p)}, ${p(REPORT_FACTS)(p)}`,
  (p) => `Write an announcement that our ${p(['office', 'store', 'clinic', 'library'])} will be closed from ${p(['May', 'July', 'December'])} ${int(p, 1, 20)} to ${int(p, 21, 30)}`,
];
const ADVICE_NUMBERS: Array<(p: Pick) => string> = [
  (p) => `I make ${int(p, 30, 120)}k a year, ${p(['should I', 'is it smart to', 'do people usually'])} ${p(['rent or buy', 'max out my 401k', 'pay off my student loans first', 'keep an emergency fund', 'lease a car'])}? general advice please`,
  (p) => `my ${p(['son', 'daughter', 'baby', 'dog', 'cat'])} is ${int(p, 2, 14)} ${p(['months', 'years'])} old and ${p(['will not sleep', 'barely eats', 'keeps coughing', 'is always tired'])}, ${p(['is that normal', 'what should I do', 'should I see a doctor'])}?`,
  (p) => `I have ${int(p, 2, 21)} days in ${p(['Italy', 'Japan', 'Mexico', 'Norway', 'Vietnam', 'Portugal'])} with about ${int(p, 5, 40)}00 ${p(['euros', 'dollars'])}, what should I see?`,
  (p) => `I sleep ${int(p, 4, 6)} hours and drink ${int(p, 3, 7)} coffees a day, ${p(['is that bad', 'any tips', 'how do I cut back'])}?`,
  (p) => `what should I look for in a ${p(['laptop', 'phone', 'used car', 'apartment', 'bike'])} under ${int(p, 3, 20)}00 ${p(['euros', 'dollars', 'pounds'])}?`,
];
const TECH_LAY = [
  'what {t} is', 'how {t} works', 'why everyone talks about {t}', 'whether {t} is safe', 'what {t} means for my job', 'the history of {t}',
];
const TECH_TOPICS = ['an API', 'the cloud', 'AI', 'machine learning', 'a database', 'Kubernetes', 'encryption', 'a server', 'open source software', 'cookies on websites', '5G', 'a VPN', 'two-factor authentication', 'the blockchain', 'a firewall', 'an operating system', 'a data center', 'software updates', 'ChatGPT', 'quantum computers'];

function summaryPrompt(p: Pick): string {
  const ask = p(SUMMARY_ASKS).replace('{r}', p(LAY_READERS));
  const kind = p([0, 1, 1]);
  const body =
    kind === 0
      ? [1, 2, 3, 4].map(() => p(LOG_LINES)(p)).join('\n')
      : [1, 2, 3, 4].map(() => `- ${p(REPORT_FACTS)(p)}`).join('\n');
  return p([true, false]) ? `${ask}\n\n${body}` : `${body}\n\n${ask}`;
}

function generalPrompt(p: Pick): string {
  const kind = p([0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 8, 9, 10, 10, 11, 12]);
  if (kind === 8) return summaryPrompt(p);
  if (kind === 9) {
    return p(NUMBER_FACTS).replace('{x}', p(NF_X)).replace('{y}', p(NF_Y)).replace('{z}', p(NF_Z)).replace('{n}', String(int(p, 2, 90))).replace('{u}', p(NF_U));
  }
  if (kind === 10) return p(FW_NUMBERS)(p);
  if (kind === 11) return p(ADVICE_NUMBERS)(p);
  if (kind === 12) return `${p(['Explain', 'Can you explain', 'Tell me', 'In plain words,'])} ${p(TECH_LAY).replace('{t}', p(TECH_TOPICS))}${p(['', ' to my grandma', ' to a non-technical person', ', no code please', ' for my manager'])}${p(['?', '', '.'])}`;
  if (kind === 0) return `${p(['Explain', 'Can you explain', 'Explain in simple terms', 'Help me understand', 'I never understood'])} ${p(CONCEPTS)}${p(['', '.', '?', ' to a beginner', ' in a few sentences'])}`;
  if (kind === 1) return `${p(['Who was', 'Tell me about', 'What is known about', 'Give me a short biography of'])} ${p(PEOPLE_FAMOUS)}${p(['?', '', '.'])}`;
  if (kind === 2) return `${p(['Tell me about the history of', 'Summarize the history of', 'What was the impact of', 'Give me an overview of'])} ${p(HISTORY)}`;
  if (kind === 3) return `${p(['Write an email to', 'Draft a short email to', 'Help me write a message to', 'Write a polite note to'])} ${p(RECIPIENTS)} ${p(EMAIL_TOPICS)}`;
  if (kind === 4) return `${p(['Translate', 'How do you say', 'Translate this into'])} ${p(['', ''])}"${p(PHRASES)}" ${p(['into', 'in'])} ${p(LANGUAGES)}`;
  if (kind === 5) return `${p(['Any tips for', 'Give me advice on', 'What are the best tips for', 'How do I get better at'])} ${p(ADVICE)}${p(['?', ''])}`;
  if (kind === 6) return `${p(['Can you recommend', 'Recommend some', 'What are good', 'Suggest a few'])} ${p(RECOMMEND)}${p(['?', ''])}`;
  return `${p(['What is', 'What\'s', 'Define', 'What does it mean:'])} ${p(['a mortgage', 'the ozone layer', 'an electoral college', 'a sonnet', 'GDP', 'a haiku', 'a vaccine', 'a recession', 'the placebo effect', 'a limerick', 'probability', 'a prime number', 'a startup'])}${p(['?', ''])}`;
}

export const GENERATORS: Record<Category, (pick: Pick) => string> = {
  coding: codingPrompt,
  reasoning: reasoningPrompt,
  creativity: creativePrompt,
  general: generalPrompt,
};
