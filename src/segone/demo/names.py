"""People's names for the demo: first names and surnames of people in Yorkshire today.

About 400 of each, so that of 24,000 customers most have a name of their own and one in eight or so
shares it with someone else (as "David Smith" does in any large customer base), and nobody is numbered.
"""

from __future__ import annotations


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FIRST_NAMES = _words(
    """
    Aaliyah Aaron Abdul Abigail Adam Adele Adrian Agnieszka Ahmed Aidan Aileen Aisha Alan Alex Alexander
    Alexandra Alfie Alice Alicia Alison Amanda Amara Amber Amelia Amir Amit Amy Ana Andrea Andrew Angela
    Anil Anita Ann Anna Anne Annette Anthony Anya Archie Arjun Arthur Asha Ashley Aurora Ava Ayesha Barbara
    Barry Beatrice Bella Ben Benjamin Bernard Beth Bethany Bilal Billy Blessing Bogdan Brenda Brian
    Bronwen Bryony Caitlin Callum Cameron Carl Carla Carmen Carol Caroline Catherine Cerys Charles
    Charlie Charlotte Chen Chiara Chidi Chloe Chris Christina Christine Christopher Ciara Claire Clare
    Colin Connor Craig Dafydd Daisy Dale Damian Daniel Daniela Danny Darren David Dawn Dean Debbie Deborah
    Declan Deepa Denise Derek Dev Diana Diane Dominic Dominika Donna Dylan Eamon Edward Eilidh Elaine
    Eleanor Elena Eliza Elizabeth Ella Ellie Elliot Eloise Emeka Emily Emma Eric Erin Esther Ethan Eve
    Evelyn Ewa Faisal Farah Fay Felix Fiona Finlay Finn Florence Frances Francesca Frank Freddie Freya
    Gabriel Gail Gareth Gary Gavin Gemma Geoffrey George Georgia Gerald Gillian Giovanni Gordon Grace
    Graham Gurpreet Gwen Hamza Hannah Harjit Harriet Harry Harvey Hassan Hayley Hazel Heather Helen Henry
    Holly Hugh Hussein Ian Ibrahim Imogen Imran Ines Iona Irene Isaac Isabel Isabella Isla Ivan Jack
    Jacob Jacqueline Jade Jake James Jamie Jan Jane Janet Jasmine Jason Jaspreet Jay Jayden Jean Jenna
    Jennifer Jenny Jeremy Jessica Jill Joan Joanna Joanne Jodie Joe Joel John Jonathan Jordan Joseph
    Joshua Joy Joyce Judith Julia Julian Julie Justin Kamal Kane Kara Karen Karim Kasia Kate Katherine
    Kathleen Katie Kayleigh Keith Kelly Kenneth Kerry Kevin Khadija Kieran Kim Kirsty Kofi Krzysztof Kwame
    Lara Laura Lauren Layla Leah Lee Leo Leon Lesley Lewis Liam Lily Linda Lindsay Lisa Logan Lola
    Lorraine Louise Lucas Lucia Lucy Luke Lydia Lynne Madison Maisie Malcolm Manpreet Marcus Margaret Maria
    Marie Mark Marta Martin Mary Mason Matthew Maureen Max Maya Megan Mehmet Melanie Melissa Mia Michael
    Michelle Mila Millie Mohammed Molly Muhammad Nadia Naomi Nasir Natalie Nathan Neil Nia Niamh Nicholas
    Nicola Nigel Nikhil Nina Noah Noor Nora Norman Olga Oliver Olivia Olu Omar Oscar Owen Paige Pamela
    Patricia Patrick Paul Paula Pauline Pavel Peter Petra Philip Phoebe Piotr Poppy Priya Rachel Rahul
    Raj Rana Ravi Rebecca Reece Rhiannon Rhys Richard Rita Robert Robyn Rohan Rory Rosa Rose Rosie Ross
    Ruby Rupert Ruth Ryan Sadia Saira Sally Samantha Samina Samuel Sana Sandra Sanjay Sara Sarah Scott
    Sean Seren Shabnam Shane Sharon Shaun Sheila Shirley Sian Simon Sinead Siobhan Sofia Sonia Sophie
    Stacey Stanley Stella Stephanie Stephen Steven Stuart Sue Sunil Susan Suzanne Tanya Tara Tariq Teresa
    Theo Thomas Tim Tina Toby Tom Tomasz Tony Tracey Trevor Tyler Usman Valerie Vanessa Vera Victor
    Victoria Vikram Vincent Wayne Wei William Wendy Xavier Yasmin Yusuf Yvonne Zainab Zak Zara Zoe Zofia
    """
)

LAST_NAMES = _words(
    """
    Abbott Adams Adeyemi Akhtar Ali Allen Anderson Andrews Armstrong Ashworth Atkinson Austin Bailey Baker
    Ball Balogun Banks Barker Barnes Barrett Bates Baxter Begum Bell Bennett Berry Bhatt Birch Bird Bishop
    Black Blackburn Booth Bradley Bradshaw Brennan Briggs Brook Brooks Brown Bryant Buckley Burgess Burke
    Burns Burton Butler Byrne Campbell Carr Carroll Carter Cartwright Chadwick Chambers Chan Chapman
    Charlton Chaudhry Chauhan Chowdhury Clark Clarke Clayton Cole Coleman Collier Collins Connolly Cook
    Cooke Cooper Costa Cox Crossley Cunningham Daly Davey Davidson Davies Davis Dawson Day Dean Denton
    Desai Dixon Dobson Doherty Douglas Doyle Duffy Duncan Dunn Dyson Earnshaw Eastwood Edwards Elliott
    Ellis Evans Farrell Fenton Ferguson Fernandes Firth Fisher Fitzgerald Fleming Fletcher Flynn Ford
    Foster Fowler Fox Francis Fraser Gallagher Gardner Garside Gibbons Gibson Gilbert Gill Goddard Gordon
    Gough Graham Grant Gray Green Greenwood Gregory Griffin Griffiths Haigh Hall Hamilton Hammond Hanson
    Hardy Harper Harris Harrison Hart Hartley Harvey Hawkins Haworth Hayes Heald Hewitt Hill Hinchliffe
    Hirst Hobson Holden Holland Holloway Holmes Holt Hopkins Horton Hossain Howard Howarth Hudson Hughes
    Hunt Hunter Hussain Iqbal Jackson James Jarvis Jenkins Jennings Johnson Johnston Jones Joshi Kaur Kay
    Kelly Kennedy Kent Kerr Khan King Knight Kowalski Kumar Lamb Lambert Lane Law Lawrence Lawson Leach
    Lee Lewandowski Lewis Li Lindley Little Lloyd Lodge Long Lord Lowe Lynch Macdonald Mahmood Malik
    Marsden Marsh Marshall Martin Mason Matthews Maxwell McCarthy McDonald McKenzie Mehta Mellor Mensah
    Metcalfe Miller Mills Mistry Mitchell Moore Moran Morgan Morris Morton Moss Murphy Murray Nair Nash
    Naylor Nelson Newton Nicholson Noble Norris Nowak Nuttall Nwosu Oakley O'Brien O'Connor Okafor
    Oldroyd Oliver O'Neill Osborne Osei Owen Palmer Parker Parkin Parkinson Parry Patel Payne Pearce
    Pearson Perkins Perry Phillips Pickles Pollard Porter Potter Powell Pratt Preston Price Priestley
    Pritchard Quinn Rahman Ramsden Rashid Read Reed Reid Reynolds Rhodes Rice Richards Richardson Riley
    Roberts Robertson Robinson Rogers Rose Ross Rossi Rowe Russell Ryan Sanderson Santos Saunders Scott
    Sharma Sharp Shaw Shepherd Silva Simmons Simpson Singh Slater Smith Spencer Stanley Stephenson
    Stevens Stewart Stone Storey Sutcliffe Sutton Swift Sykes Tait Taylor Thomas Thompson Thomson
    Thornton Thorpe Todd Townend Tucker Turner Uddin Walker Wallace Walsh Walton Ward Warren Watson Watts
    Webb Webster Wells West Wheeler Whitaker White Whitehead Wilkinson Williams Williamson Willis Wilson
    Wojcik Wong Wood Woodhead Woods Wright Wu Yates Young Zhang Zielinski
    """
)
