/**
 * Pieces for multi-turn training conversations: system prompts, assistant replies and follow-ups.
 * A follow-up such as "make it shorter" carries no category of its own; the label comes from the
 * conversation it continues, which is exactly what the classifier must learn to do.
 */
import type { Category } from '../../../../../plugin-api/index.js';

/** System prompts that say nothing about the task: they must not move the category. */
export const NEUTRAL_SYSTEM_PROMPTS: readonly string[] = [
  'You are a helpful assistant.',
  'You are a helpful, harmless and honest AI assistant. Answer as helpfully as possible.',
  'You are ChatGPT, a large language model. Knowledge cutoff: 2024-06. Current date: 2025-03-14.',
  'Be concise.',
  'Answer in a friendly tone. Use markdown where helpful.',
  'You are an assistant for Acme Corp employees. Be professional and accurate.',
  'Always answer in the language of the user.',
  'You are a knowledgeable assistant. If you are unsure, say so.',
];

/** System prompts that set the task domain, used with short or ambiguous user turns. */
export const DOMAIN_SYSTEM_PROMPTS: Record<Category, readonly string[]> = {
  coding: [
    'You are an expert software engineer. Help the user write, debug and review code. Answer with code blocks.',
    'You are a senior Python developer doing code review. Point out bugs and suggest idiomatic fixes.',
    'You are a DevOps assistant that helps with Docker, Kubernetes, CI pipelines and shell commands.',
    'You are a coding assistant embedded in an IDE. The user is working on a TypeScript monorepo.',
    'You are a SQL expert. Write efficient PostgreSQL queries.',
  ],
  reasoning: [
    'You are a patient math tutor. Solve problems step by step and check your arithmetic.',
    'You are a logic puzzle expert. Reason carefully and show each deduction.',
    'You are a physics teacher. Show the formulas, the substitution and the units.',
    'You are a quantitative analyst. Work through calculations rigorously.',
    'Think step by step and give the final numeric answer at the end.',
  ],
  creativity: [
    'You are a creative writing partner. Write vivid, original fiction and poetry.',
    'You are a witty copywriter who invents brand names and slogans.',
    'You are the narrator of an interactive fantasy adventure. Stay in character at all times.',
    'You are a songwriter. Write lyrics with verses, a chorus and a bridge.',
    'You are a children\'s book author with a playful voice.',
  ],
  general: [
    'You are a friendly travel planner who gives practical advice.',
    'You are a helpful assistant that writes clear, professional emails.',
    'You are a knowledgeable history teacher who explains things simply.',
    'You are a health information assistant. Give general information, not diagnoses.',
    'You are a translator. Translate accurately and naturally.',
  ],
};

/** Short, ambiguous user turns that a domain system prompt decides. */
export const AMBIGUOUS_TURNS: readonly string[] = [
  'here is what I have so far, can you improve it?', 'help me with this one', 'can you do the next one?',
  'something about autumn', 'make it better', 'I need help with question 3', 'go', 'start', 'another one please',
  'what do you think?', 'ok let\'s begin', 'check this for me', 'can you help me with my homework?', 'try again',
];

/** Assistant turns that show which kind of answer was given, by category. */
export const ASSISTANT_REPLIES: Record<Category, readonly string[]> = {
  coding: [
    'Here is a version that uses a dictionary for O(1) lookups:\n\n```python\ndef find_pairs(nums, target):\n    seen = {}\n    for i, n in enumerate(nums):\n        if target - n in seen:\n            yield seen[target - n], i\n        seen[n] = i\n```',
    'The error happens because `user` is undefined when the component first renders. Add a guard:\n\n```jsx\nif (!user) return <Spinner />;\n```',
    'You can do it with a single command:\n\n```bash\nfind . -type f -name "*.tmp" -delete\n```',
    'Use a window function:\n\n```sql\nSELECT *, ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY created_at DESC) AS rn FROM events;\n```',
    'The borrow checker rejects it because `first` still borrows `v` when you push. Clone the value or end the borrow before mutating.',
    'Here is the updated Dockerfile with a multi-stage build:\n\n```dockerfile\nFROM node:20 AS build\nWORKDIR /app\nCOPY . .\nRUN npm ci && npm run build\n```',
  ],
  reasoning: [
    'Let the width be w. Then the length is 2w and the perimeter is 2(w + 2w) = 6w = 36, so w = 6 and the area is 6 × 12 = 72 cm².',
    'There are 5! = 120 arrangements in total. Treating the two friends as one block gives 4! × 2 = 48 arrangements.',
    'P(at least one six) = 1 − (5/6)^4 ≈ 1 − 0.482 = 0.518.',
    'Step 1: the relative speed is 20 mph. Step 2: the first train has a 60-mile head start. Step 3: 60 / 20 = 3 hours, so they meet at 7pm.',
    'From statement 2, B cannot be a knight (then A would be a knight and call B a knave). So B is a knave, and A told the truth: A is a knight.',
    'Assume √2 = p/q in lowest terms. Then p² = 2q², so p is even; write p = 2k, giving q² = 2k², so q is even too, a contradiction.',
  ],
  creativity: [
    'The lighthouse keeper counted ships the way other men counted sheep,\nand every night the sea returned his count in whispers...',
    'Autumn leaves let go,\nthe maple writes its last words\nin red on the path.',
    'Verse 1:\nDusty road and a rusted gate,\nI left my name on the county line...\n\nChorus:\nOh, hometown, you never let me go...',
    '*The innkeeper wipes a mug and squints at you.* "Wet as a drowned rat, you are. Sit by the fire, traveler, and tell me what brings you to the Crooked Lantern."',
    'Here are some ideas: 1. Brew & Bound 2. The Chapter Bean 3. Latte Literati 4. Pages & Pours 5. Espresso Yourself',
    'Once upon a time, in a pond at the edge of a quiet wood, there lived a little turtle named Pip who was afraid of the dark...',
  ],
  general: [
    'TCP (Transmission Control Protocol) provides reliable, ordered delivery of data between two hosts. It starts with a three-way handshake...',
    'The capital of Australia is Canberra, not Sydney as many people assume.',
    'Subject: Heating repair request\n\nDear Mr. Lee,\n\nI am writing to let you know that the heating in my apartment has not been working since Monday...',
    'Here are some tips for better sleep: keep a consistent schedule, avoid screens an hour before bed, keep your bedroom cool and dark...',
    'The main causes of World War I are often summarized as militarism, alliances, imperialism and nationalism, with the assassination of Archduke Franz Ferdinand as the trigger.',
    '"¿Dónde está la estación de tren?"',
  ],
};

/** Follow-ups that only make sense with the conversation before them. */
export const FOLLOW_UPS: Record<Category, readonly string[]> = {
  coding: [
    'now make it faster', 'can you add tests for it?', 'it still throws the same error', 'what about edge cases like an empty list?',
    'can you convert it to TypeScript?', 'add comments please', 'that didn\'t work, now it says permission denied', 'make it async',
    'how do I run this?', 'can you make it handle unicode?', 'refactor it into smaller functions', 'now do the same for the delete endpoint',
    'why do we need the guard there?', 'use a set instead', 'does this leak memory?', 'can it run in O(n)?',
  ],
  reasoning: [
    'what if there were 7 people instead?', 'can you show the steps?', 'are you sure? check the arithmetic again', 'and for part (b)?',
    'why does that step work?', 'what if the dice are not fair and six comes up half the time?', 'now solve it for n in general',
    'what if the second train is slower?', 'can you double check with another method?', 'what is the answer rounded to 2 decimals?',
    'and if we drop the last constraint?', 'prove the converse too',
  ],
  creativity: [
    'make it funnier', 'now make it rhyme', 'add a twist ending', 'make the second verse sadder', 'continue the story',
    'give it a darker tone', 'write another one, shorter', 'can the main character be a girl instead?', 'what happens next?',
    'more names please, less punny', 'turn it into a limerick', 'add a bridge to the song', '*I draw my sword and step forward*',
  ],
  general: [
    'tell me more', 'what about in Canada?', 'can you make it more formal?', 'translate that to French', 'and when did that happen?',
    'can you summarize that in one sentence?', 'make the email shorter', 'who else was involved?', 'is that true for children too?',
    'any other tips?', 'what are the risks?', 'can you add a line thanking them?',
  ],
};

/** Follow-ups that fit any conversation; they inherit its category. */
export const GENERIC_FOLLOW_UPS: readonly string[] = [
  'why?', 'shorter please', 'continue', 'explain more', 'thanks!', 'can you elaborate?', 'ok and then?', 'another one',
  'make it better', 'hmm, not quite', 'yes', 'go on', 'what do you mean?', 'can you redo that?', 'perfect, one more',
];

/**
 * System prompts that set up a character to play. Under them, an ordinary-looking in-character turn
 * ("what do you think of computers?", "what do you deduce?") is role-play: creativity.
 */
export const PERSONA_SYSTEM_PROMPTS: readonly string[] = [
  'You are Captain Blackwater, a pirate who talks in pirate speak and never breaks character.',
  'You are Sherlock Holmes. Stay in character and answer as Holmes would.',
  'You are Gandalf the Grey. Speak like him.',
  'You are a grumpy medieval innkeeper in a fantasy tavern. Stay in character.',
  'You are Marie Curie, speaking to a visitor in 1911. Answer in character.',
  'Role-play as a friendly alien who has just landed on Earth and is curious about everything.',
  'You are the narrator of a noir detective story. Describe everything in hard-boiled style.',
  'You are Yoda.',
  'You are Napoleon Bonaparte. Respond as Napoleon would, with his ego.',
  'You are a dungeon master running a D&D campaign for the user. Describe scenes vividly and let the player act.',
  'You are a stand-up comedian. Everything you say is part of your act.',
  'You are Luna, a sarcastic talking cat who lives in a bookshop.',
  'Pretend you are a 1920s radio announcer. Never break character.',
  'You are an ancient dragon guarding a treasure. Talk like one.',
  'You are a poet who answers every question with a short poem.',
];

/** In-character user turns: they look like questions, facts or even tech, but under a persona they are role-play. */
export const IN_CHARACTER_TURNS: readonly string[] = [
  'what do you think about smartphones?', 'tell me about yourself', 'what is your greatest fear?', 'how do I become a better programmer?',
  'what do you deduce from the mud on my boots?', 'I walk into the room and look around', 'can you explain the internet to me?',
  'how much gold do you have?', 'what is 2 + 2 in your world?', 'I hand you a 50 dollar bill', 'what was your childhood like?',
  'someone stole my laptop this morning at 9, who did it?', 'give me advice about my job interview tomorrow', 'what is love?',
  'I draw my sword', 'do you like pizza?', 'what do you think of the stock market?', 'how old are you?', 'tell me about the war',
  'what is your favorite number and why?', 'I ask the bartender about the missing merchant', 'explain gravity to me',
  'what would you do with a computer?', 'I open the chest', 'hello there!', 'why are you so grumpy?',
];

/** Professional and service system prompts: the user's turn decides, and plain questions under them stay general. */
export const SERVICE_SYSTEM_PROMPTS: readonly string[] = [
  'You are a customer support assistant for ACME Bank. Be concise and friendly.',
  'You are an HR assistant. Answer employee questions about policies.',
  'You are a helpful assistant for a telecom company. Help customers with billing and plans.',
  'You are a friendly assistant. Think step by step before answering.',
  'You are an expert assistant. Reason carefully and answer accurately.',
  'You are a personal finance assistant. Give general information, not financial advice.',
  'You are a writing assistant that helps with emails and documents.',
  'You are a helpful assistant that answers questions about the company handbook.',
];
