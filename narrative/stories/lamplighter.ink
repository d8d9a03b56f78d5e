// The Last Lamplighter: Kinoroom's bundled ink story. It plays with no footage at all:
// every line is a text scene on the shared screen and the phones, and the room votes at
// each choice. Written for the project (MIT, like the rest of Kinoroom).
//
// Compiled to lamplighter.ink.json with the inkjs compiler (make ink-compiler; see the
// README, "Stories from ink and Twine").
# title: The Last Lamplighter
# wpm: 170
# window: 15
# background: 141821
# colour: f3e3b5
# genre: fable, drama
# themes: kindness, the end of a trade, light
# tags: night, city, words

VAR oil = 3
VAR lit = 0
VAR kindness = 0
VAR met_girl = false

Tonight the city switches to electric light. Tomorrow there will be no lamplighters.
You are the last one, and you have one round left, a ladder and {oil} measures of oil.
-> square

== square ==
{The clock on the square strikes nine.|The square again. The clock has moved on without you.|The square, quieter now.}
{lit > 0: Behind you, {lit} {lit == 1: lamp burns|lamps burn} the old way.}
+ {oil > 0} [Light the lamps of Wren Street]
    -> wren
* [Knock at the oil seller's door]
    -> fetch_oil -> square
* {met_girl} [Look for the girl with the paper boat]
    -> bridge
* [Sit on the fountain's edge and listen to the rain]
    The rain says what it always says. You feel better for hearing it.
    -> square
* {lit >= 2} [Climb down for good and wait for the dawn]
    -> dawn
* -> dawn

== wren ==
~ oil = oil - 1
~ lit = lit + 1
You climb the ladder. The wick takes the flame, and Wren Street turns gold.
{lit > 1: -> square}
A girl watches you from a doorway, holding a paper boat.
~ met_girl = true
* [Wave to her # default]
    She waves back, and the boat nearly falls in the gutter.
    ~ kindness = kindness + 1
* [Pretend you did not see her]
    You look at the flame instead. Flames do not look back.
- -> square

== fetch_oil ==
The oil seller opens in his nightshirt. "Last night, is it?"
* ["One more measure, please" # policy: plurality]
    He fills your can without asking for a coin.
    ~ oil = oil + 1
* ["Keep it. I have enough"]
    He nods, as if you had said something wise.
    ~ kindness = kindness + 1
- ->->

== bridge ==
You find her on the bridge, setting the paper boat on the black water.
"Will they keep one lamp?" she asks. "For the boats?"
* {oil > 0} [Light the bridge lamp for her]
    ~ oil = oil - 1
    ~ lit = lit + 1
    The flame doubles in the river. The boat sails through the light.
    ~ kindness = kindness + 1
* [Tell her the truth]
    "No," you say. "But the river will remember."
- -> square

== dawn ==
The electric lamps come on all at once, white and even, and your flames look small beside them.
{kindness >= 2: Someone has left a paper boat on your ladder.}
{lit >= 3: For one more hour, {lit} lamps of yours burn in a city that no longer needs them.|You go home by the new light.}
-> END
